"""Pruebas de seccion05/calcLoss.py y de su acuerdo con el cuaderno 1 de la sección 5."""

import math

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from seccion02_TrabajarDatosTexto.tokenizerGPT2 import get_tokenizer
from seccion04_ImplementacionGPTGeneracionTexto.gptConfig124M import GPT_CONFIG_124M
from seccion04_ImplementacionGPTGeneracionTexto.gptModel import GPTModel
from seccion05.calcLoss import calc_loss_batch, calc_loss_loader, text_to_token_ids, token_ids_to_text

CONFIG_MINI = {"vocab_size": 50257, "context_length": 16, "emb_dim": 32, "n_heads": 2, "n_layers": 2,
               "drop_rate": 0.0, "qkv_bias": False}


@pytest.fixture(scope="module")
def tokenizer():
    return get_tokenizer()


@pytest.fixture(scope="module")
def modelo_mini():
    torch.manual_seed(123)
    return GPTModel(CONFIG_MINI).eval()


def _cargador(num_lotes, batch_size=2, seq=8, semilla=0):
    g = torch.Generator().manual_seed(semilla)
    x = torch.randint(0, 50257, (num_lotes * batch_size, seq), generator=g)
    y = torch.randint(0, 50257, (num_lotes * batch_size, seq), generator=g)
    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=False)


def test_text_to_token_ids_y_vuelta(tokenizer):
    ids = text_to_token_ids("Every effort moves you", tokenizer)
    assert ids.shape == (1, 4)
    assert ids.tolist() == [[6109, 3626, 6100, 345]]
    assert token_ids_to_text(ids, tokenizer) == "Every effort moves you"
    assert token_ids_to_text(ids[0], tokenizer) == "Every effort moves you"  # también sin la dimensión del lote
    assert text_to_token_ids("Hola<|endoftext|>", tokenizer)[0, -1].item() == 50256


def test_entropia_cruzada_a_mano_igual_a_pytorch():
    """Los seis pasos del cuaderno (softmax, probabilidad del objetivo, log, media, signo) = cross_entropy."""
    torch.manual_seed(0)
    logits = torch.randn(3, 5, 100) * 4
    targets = torch.randint(0, 100, (3, 5))
    probas = torch.softmax(logits, dim=-1)
    target_probas = probas.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    a_mano = -torch.mean(torch.log(target_probas))
    pytorch = torch.nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten())
    torch.testing.assert_close(a_mano, pytorch, rtol=1e-5, atol=1e-6)


def test_calc_loss_batch_es_la_entropia_cruzada_del_lote(modelo_mini):
    x, y = next(iter(_cargador(1)))
    with torch.no_grad():
        esperado = torch.nn.functional.cross_entropy(modelo_mini(x).flatten(0, 1), y.flatten())
        obtenido = calc_loss_batch(x, y, modelo_mini, torch.device("cpu"))
    torch.testing.assert_close(obtenido, esperado)


def test_calc_loss_loader_media_y_num_batches(modelo_mini):
    cargador = _cargador(3)
    dispositivo = torch.device("cpu")
    with torch.no_grad():
        por_lote = [calc_loss_batch(x, y, modelo_mini, dispositivo).item() for x, y in cargador]
        assert calc_loss_loader(cargador, modelo_mini, dispositivo) == pytest.approx(sum(por_lote) / 3)
        assert calc_loss_loader(cargador, modelo_mini, dispositivo, num_batches=2) == pytest.approx(sum(por_lote[:2]) / 2)
        # Más lotes de los que hay: se usan todos
        assert calc_loss_loader(cargador, modelo_mini, dispositivo, num_batches=10) == pytest.approx(sum(por_lote) / 3)


def test_calc_loss_loader_vacio_devuelve_nan(modelo_mini):
    vacio = DataLoader(TensorDataset(torch.zeros(0, 8, dtype=torch.long), torch.zeros(0, 8, dtype=torch.long)),
                       batch_size=2)
    assert len(vacio) == 0
    assert math.isnan(calc_loss_loader(vacio, modelo_mini, torch.device("cpu")))


@pytest.mark.parametrize(
    ("num_batches", "descripcion"), [(0, r"0 \(int\)"), (-1, r"-1 \(int\)"), (2.5, r"2\.5 \(float\)"),
                                     (2.0, r"2\.0 \(float\)"), (True, r"True \(bool\)"), ("2", r"'2' \(str\)")]
)
def test_calc_loss_loader_rechaza_num_batches_que_no_es_entero_positivo(modelo_mini, num_batches, descripcion):
    with pytest.raises(ValueError, match=rf"^num_batches debe ser un entero mayor o igual que 1 \(o None\); "
                                         rf"has pasado {descripcion}\."):
        calc_loss_loader(_cargador(3), modelo_mini, torch.device("cpu"), num_batches=num_batches)


class CargadorQueExagera:
    """Un iterable cuyo len dice 5 lotes pero que solo da 2 (como un cargador mal escrito o un generador)."""

    def __init__(self, lotes):
        self.lotes = lotes

    def __len__(self):
        return 5

    def __iter__(self):
        return iter(self.lotes)


def test_calc_loss_loader_divide_entre_los_lotes_usados_de_verdad(modelo_mini):
    lotes = list(_cargador(2))
    dispositivo = torch.device("cpu")
    with torch.no_grad():
        por_lote = [calc_loss_batch(x, y, modelo_mini, dispositivo).item() for x, y in lotes]
        assert calc_loss_loader(CargadorQueExagera(lotes), modelo_mini, dispositivo) == pytest.approx(sum(por_lote) / 2)
        assert calc_loss_loader(CargadorQueExagera(lotes), modelo_mini, dispositivo, num_batches=4) == pytest.approx(
            sum(por_lote) / 2
        )
        assert math.isnan(calc_loss_loader(CargadorQueExagera([]), modelo_mini, dispositivo))  # ningún lote: nan


def test_calc_loss_batch_rechaza_objetivos_de_otra_forma(modelo_mini):
    x, y = next(iter(_cargador(1, batch_size=2, seq=4)))  # (2, 4)
    dispositivo = torch.device("cpu")
    with pytest.raises(ValueError) as info:
        calc_loss_batch(x, y.T.contiguous(), modelo_mini, dispositivo)  # (4, 2): mismos elementos, otra forma
    assert str(info.value) == (
        "input_batch y target_batch deben tener la misma forma (lote, num_tokens); has pasado input_batch de forma "
        "(2, 4) y target_batch de forma (4, 2). target_batch[i, j] es el token que sigue a input_batch[i, j]."
    )
    with pytest.raises(ValueError, match=r"has pasado input_batch de forma \(8,\) y target_batch de forma \(8,\)"):
        calc_loss_batch(x.flatten(), y.flatten(), modelo_mini, dispositivo)  # sin dimensión del lote


def test_text_to_token_ids_siempre_da_long_de_forma_1_n(tokenizer):
    vacio = text_to_token_ids("", tokenizer)
    assert vacio.dtype == torch.long and vacio.shape == (1, 0)
    uno = text_to_token_ids("I", tokenizer)
    assert uno.dtype == torch.long and uno.tolist() == [[40]]


def test_token_ids_to_text_con_un_solo_token(tokenizer):
    assert token_ids_to_text(torch.tensor([40]), tokenizer) == "I"  # (num_tokens,) con un token
    assert token_ids_to_text(torch.tensor([[40]]), tokenizer) == "I"  # (1, num_tokens) con un token
    assert token_ids_to_text(text_to_token_ids("", tokenizer), tokenizer) == ""


@pytest.mark.parametrize("forma", [(2, 3), (1, 1, 3), ()])
def test_token_ids_to_text_rechaza_otras_formas(tokenizer, forma):
    ids = torch.full(forma, 40, dtype=torch.long)
    with pytest.raises(ValueError) as info:
        token_ids_to_text(ids, tokenizer)
    assert str(info.value) == (
        f"token_ids debe tener forma (num_tokens,) o (1, num_tokens); has pasado un tensor de forma {forma}. "
        "Para un lote de varios textos, decodifica cada fila: [token_ids_to_text(fila, tokenizer) for fila in "
        "token_ids]."
    )


def test_valores_de_referencia_del_cuaderno(tokenizer):
    """Semilla 123, modelo de 124M con contexto 256: las cifras que cita el cuaderno 1 (y el libro)."""
    torch.manual_seed(123)
    model = GPTModel(dict(GPT_CONFIG_124M, context_length=256)).eval()
    inputs = torch.tensor([[16833, 3626, 6100], [40, 1107, 588]])
    targets = torch.tensor([[3626, 6100, 345], [1107, 588, 11311]])
    with torch.no_grad():
        logits = model(inputs)
    probas = torch.softmax(logits, dim=-1)
    target_probas = torch.stack([probas[i, [0, 1, 2], targets[i]] for i in range(2)])
    torch.testing.assert_close(
        target_probas,
        torch.tensor([[7.4541e-05, 3.1061e-05, 1.1563e-05], [1.0337e-05, 5.6776e-05, 4.7559e-06]]),
        rtol=2e-4, atol=0,
    )
    loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten())
    assert loss.item() == pytest.approx(10.7940, abs=5e-5)
    assert torch.exp(loss).item() == pytest.approx(48725.87, rel=1e-4)
