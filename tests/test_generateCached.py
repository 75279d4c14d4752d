"""Pruebas de seccion05/generateCached.py: los mismos tokens que sin caché, las reglas de muestreo de generate y
sus errores."""

import pytest
import torch

from seccion04_ImplementacionGPTGeneracionTexto.generateTextSimple import generate_text_simple
from seccion04_ImplementacionGPTGeneracionTexto.gptConfig124M import GPT_CONFIG_124M
from seccion05 import generateCached
from seccion05.generateCached import generate_cached
from seccion05.gptModelFast import GPTModelFast
from tests.caminoRapido import CFG, modelos_diminutos


@pytest.fixture
def modelos():
    return modelos_diminutos()


@pytest.mark.parametrize("n_inicial", [1, 3, 7])
@pytest.mark.parametrize("n_nuevos", [1, 5, None])  # None: hasta llenar context_length
def test_cache_igual_que_sin_cache(modelos, n_inicial, n_nuevos):
    gpt, rapido = modelos
    n_nuevos = n_nuevos or CFG["context_length"] - n_inicial
    torch.manual_seed(n_inicial)
    idx = torch.randint(0, CFG["vocab_size"], (2, n_inicial))
    esperado = generate_text_simple(gpt, idx, n_nuevos, CFG["context_length"])
    assert torch.equal(generate_cached(rapido, idx, n_nuevos), esperado)
    assert torch.equal(generate_cached(rapido, idx, n_nuevos, use_cache=False), esperado)



def test_cache_llega_justo_a_context_length(modelos):
    gpt, rapido = modelos
    idx = torch.tensor([[6109, 3626, 6100, 345]])
    out = generate_cached(rapido, idx, CFG["context_length"] - 4)
    assert out.shape == (1, CFG["context_length"])
    assert torch.equal(out, generate_text_simple(gpt, idx, CFG["context_length"] - 4, CFG["context_length"]))



def test_cache_con_context_size_menor(modelos):
    gpt, rapido = modelos
    idx = torch.tensor([[6109, 3626, 6100, 345]])
    esperado = generate_text_simple(gpt, idx, 6, context_size=10)
    assert torch.equal(generate_cached(rapido, idx, 6, context_size=10), esperado)



def test_sliding_window_desliza_la_ventana_como_sin_cache(modelos):
    gpt, rapido = modelos
    torch.manual_seed(5)
    idx = torch.randint(0, CFG["vocab_size"], (1, 20))  # más largo que context_length: se recorta también
    esperado = generate_text_simple(gpt, idx, 12, CFG["context_length"])
    assert torch.equal(generate_cached(rapido, idx, 12, sliding_window=True), esperado)



def test_pasar_de_context_length_sin_sliding_window_da_error(modelos):
    _, rapido = modelos
    idx = torch.zeros(1, 10, dtype=torch.long)
    with pytest.raises(ValueError, match=r"suman 17 y pasan de la ventana context_size=16.*sliding_window=True"):
        generate_cached(rapido, idx, 7)



def test_muestreo_igual_con_y_sin_cache(modelos):
    _, rapido = modelos
    idx = torch.tensor([[6109, 3626, 6100, 345]])
    salidas = []
    for use_cache in (True, False):
        torch.manual_seed(123)
        salidas.append(generate_cached(rapido, idx, 10, temperature=1.4, top_k=25, use_cache=use_cache))
    assert torch.equal(*salidas)
    torch.manual_seed(123)
    assert not torch.equal(generate_cached(rapido, idx, 10, temperature=1.4), generate_cached(rapido, idx, 10))



def test_top_k_1_es_voraz(modelos):
    _, rapido = modelos
    idx = torch.tensor([[6109, 3626, 6100, 345]])
    torch.manual_seed(123)
    assert torch.equal(generate_cached(rapido, idx, 8, temperature=2.0, top_k=1), generate_cached(rapido, idx, 8))



def test_top_k_solo_elige_entre_los_k_mayores(modelos):
    """Con top_k=3, el primer token generado está entre los 3 logits mayores del último paso."""
    _, rapido = modelos
    idx = torch.tensor([[6109, 3626, 6100, 345], [40, 1107, 588, 11311]])
    with torch.no_grad():
        top3 = rapido(idx)[:, -1, :].topk(3).indices
    for semilla in range(5):
        torch.manual_seed(semilla)
        nuevo = generate_cached(rapido, idx, 1, temperature=5.0, top_k=3)[:, -1:]
        assert (nuevo == top3).any(dim=1).all()



def test_eos_detiene_sin_anadirlo(modelos):
    _, rapido = modelos
    idx = torch.tensor([[6109, 3626, 6100, 345]])
    voraz = generate_cached(rapido, idx, 8)
    tercero = int(voraz[0, 6])
    assert tercero not in voraz[0, 4:6].tolist()  # la prueba necesita que no haya salido antes
    assert torch.equal(generate_cached(rapido, idx, 8, eos_id=tercero), voraz[:, :6])
    assert torch.equal(generate_cached(rapido, idx, 8, eos_id=int(voraz[0, 4])), idx)



def test_eos_en_un_lote_rellena_las_terminadas(modelos):
    _, rapido = modelos
    idx = torch.tensor([[6109, 3626, 6100, 345], [40, 1107, 588, 11311]])
    voraz = generate_cached(rapido, idx, 8)
    eos = int(voraz[0, 6])  # el tercer token nuevo de la primera fila
    assert eos not in voraz[0, 4:6].tolist() and eos not in voraz[1, 4:].tolist()
    out = generate_cached(rapido, idx, 8, eos_id=eos)
    assert torch.equal(out[0], torch.cat([voraz[0, :6], torch.full((6,), eos)]))  # relleno con eos
    assert torch.equal(out[1], voraz[1])  # la otra fila sigue igual
    assert torch.equal(generate_cached(rapido, idx, 8, eos_id=eos, use_cache=False), out)



def test_cero_tokens_devuelve_la_entrada(modelos):
    _, rapido = modelos
    idx = torch.tensor([[1, 2, 3]])
    assert generate_cached(rapido, idx, 0) is idx



def test_golden_124m_con_cache():
    """El texto de referencia del curso (10 tokens voraces con la semilla 123) también sale con la caché."""
    from seccion02_TrabajarDatosTexto.tokenizerGPT2 import get_tokenizer

    torch.manual_seed(123)
    rapido = GPTModelFast({**GPT_CONFIG_124M, "context_length": 256}).eval()
    tokenizer = get_tokenizer()
    idx = torch.tensor([tokenizer.encode("Every effort moves you")])
    out = generate_cached(rapido, idx, 10)
    assert tokenizer.decode(out[0].tolist()) == "Every effort moves you rentingetic wasnم refres RexMeCHicular stren"



@pytest.mark.parametrize(
    ("argumentos", "mensaje"),
    [
        ({"max_new_tokens": -1}, "max_new_tokens debe ser un entero mayor o igual que 0"),
        ({"max_new_tokens": 2.0}, "max_new_tokens debe ser un entero"),
        ({"context_size": 0}, r"context_size debe ser un entero entre 1 y 16 .*context_length=16"),
        ({"context_size": 17}, r"context_size debe ser un entero entre 1 y 16 .*context_length=16"),
        ({"temperature": -0.5}, r"temperature debe ser 0 \(decodificación voraz\) o un número entre 0.01 y 1000"),
        ({"temperature": float("nan")}, r"temperature debe ser 0 \(decodificación voraz\) o un número"),
        ({"top_k": 0}, r"top_k debe ser un entero entre 1 y 50257 \(o None\).*vocab_size=50257"),
        ({"top_k": 50258}, r"top_k debe ser un entero entre 1 y 50257 \(o None\).*vocab_size=50257"),
        ({"eos_id": 50257}, r"eos_id debe ser un entero entre 0 y 50256 \(o None\)"),
        ({"idx": torch.zeros(1, 0, dtype=torch.long)}, "idx debe tener al menos un texto y un token"),
        ({"idx": torch.zeros(3, dtype=torch.long)}, r"idx debe tener forma \(lote, num_tokens\).*unsqueeze\(0\)"),
        ({"idx": torch.zeros(1, 3)}, "Los ids de idx deben ser enteros torch.long"),
    ],
)
def test_errores_de_generate_cached(modelos, argumentos, mensaje):
    _, rapido = modelos
    llamada = {"idx": torch.tensor([[1, 2, 3]]), "max_new_tokens": 3, **argumentos}
    with pytest.raises(ValueError, match=mensaje):
        generate_cached(rapido, **llamada)



def test_generate_cached_valida_con_check_generation_args(modelos, monkeypatch):
    """Una sola validación para todos los generadores: la de generate_text_simple y generate."""
    _, rapido = modelos
    llamadas = []
    original = generateCached.check_generation_args
    monkeypatch.setattr(generateCached, "check_generation_args", lambda *a: llamadas.append(a) or original(*a))
    idx = torch.tensor([[1, 2, 3]])
    generate_cached(rapido, idx, 2, 8, 0.5, 3, 7)
    assert llamadas == [(rapido, idx, 2, 8, 0.5, 3, 7)]
    with pytest.raises(TypeError, match="idx debe ser un tensor de ids"):
        generate_cached(rapido, [[1, 2, 3]], 2)



def test_cache_con_gptmodel_didactico_da_error(modelos):
    gpt, _ = modelos
    with pytest.raises(TypeError, match=r"La caché KV necesita un GPTModelFast.*GPTModelFast.from_model\(model\)"):
        generate_cached(gpt, torch.tensor([[1, 2, 3]]), 3)
    # sin caché sirve cualquier GPTModel
    assert generate_cached(gpt, torch.tensor([[1, 2, 3]]), 3, use_cache=False).shape == (1, 6)

