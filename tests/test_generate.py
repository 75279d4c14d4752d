"""Pruebas de seccion05/generate.py: temperatura, top-k, token de fin y errores."""

import ast
import inspect
import textwrap

import pytest
import torch

from seccion04_ImplementacionGPTGeneracionTexto.generateTextSimple import generate_text_simple
from seccion04_ImplementacionGPTGeneracionTexto.gptModel import GPTModel
from seccion05.generate import generate
from tests.configuraciones import CFG_DIMINUTA

CFG_MINI = {**CFG_DIMINUTA, "vocab_size": 97, "drop_rate": 0.0}


@pytest.fixture(scope="module")
def modelo():
    torch.manual_seed(123)
    return GPTModel(CFG_MINI).eval()


@pytest.fixture
def inicio():
    return torch.tensor([[5, 17, 42, 3], [60, 1, 88, 9]])  # (2, 4)


def _muestreo_de_referencia(model, idx, max_new_tokens, context_size, temperature, top_k):
    """Implementación independiente, paso a paso, con un bucle por fila y sin torch.topk."""
    for _ in range(max_new_tokens):
        with torch.no_grad():
            logits = model(idx[:, -context_size:])[:, -1, :]
        filas = []
        for fila in logits:
            umbral = fila.sort(descending=True).values[top_k - 1]
            filtrada = torch.where(fila >= umbral, fila, torch.full_like(fila, float("-inf")))
            filas.append(filtrada)
        probs = torch.softmax(torch.stack(filas) / temperature, dim=-1)
        siguiente = torch.multinomial(probs, num_samples=1)
        idx = torch.cat((idx, siguiente), dim=1)
    return idx


def test_temperatura_cero_es_generate_text_simple(modelo, inicio):
    voraz = generate_text_simple(modelo, inicio, max_new_tokens=20, context_size=16)
    assert torch.equal(generate(modelo, inicio, max_new_tokens=20, context_size=16), voraz)
    assert torch.equal(generate(modelo, inicio, max_new_tokens=20, context_size=16, temperature=0.0, top_k=5), voraz)


@pytest.mark.parametrize("temperature", [0.1, 1.0, 1.4, 5.0])
def test_top_k_1_es_voraz_con_cualquier_temperatura(modelo, inicio, temperature):
    voraz = generate_text_simple(modelo, inicio, max_new_tokens=12, context_size=16)
    torch.manual_seed(0)
    obtenido = generate(modelo, inicio, max_new_tokens=12, context_size=16, temperature=temperature, top_k=1)
    assert torch.equal(obtenido, voraz)


def test_muestreo_reproducible_con_semilla(modelo, inicio):
    torch.manual_seed(123)
    a = generate(modelo, inicio, max_new_tokens=15, context_size=16, temperature=1.4, top_k=25)
    torch.manual_seed(123)
    b = generate(modelo, inicio, max_new_tokens=15, context_size=16, temperature=1.4, top_k=25)
    torch.manual_seed(124)
    c = generate(modelo, inicio, max_new_tokens=15, context_size=16, temperature=1.4, top_k=25)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)  # de verdad se muestrea
    assert a.shape == (2, 4 + 15)


def test_muestreo_coincide_con_implementacion_independiente(modelo, inicio):
    torch.manual_seed(7)
    esperado = _muestreo_de_referencia(modelo, inicio, 15, 16, temperature=1.4, top_k=25)
    torch.manual_seed(7)
    obtenido = generate(modelo, inicio, max_new_tokens=15, context_size=16, temperature=1.4, top_k=25)
    assert torch.equal(obtenido, esperado)


def test_top_k_solo_elige_entre_los_k_mas_probables(modelo):
    idx = torch.tensor([[5, 17, 42, 3]]).repeat(400, 1)  # 400 veces el mismo contexto
    with torch.no_grad():
        logits = modelo(idx[:1])[0, -1]
    permitidos = set(torch.topk(logits, 3).indices.tolist())
    torch.manual_seed(0)
    siguiente = generate(modelo, idx, max_new_tokens=1, context_size=16, temperature=10.0, top_k=3)[:, -1]
    assert set(siguiente.tolist()) == permitidos  # con 400 muestras y T alta salen los tres, y solo ellos


def test_temperatura_alta_reparte_y_baja_concentra(modelo):
    idx = torch.tensor([[5, 17, 42, 3]]).repeat(300, 1)
    torch.manual_seed(0)
    fria = generate(modelo, idx, max_new_tokens=1, context_size=16, temperature=0.01)[:, -1]
    torch.manual_seed(0)
    caliente = generate(modelo, idx, max_new_tokens=1, context_size=16, temperature=100.0)[:, -1]
    voraz = generate_text_simple(modelo, idx[:1], max_new_tokens=1, context_size=16)[0, -1]
    assert torch.all(fria == voraz)
    assert len(set(caliente.tolist())) > 50  # casi uniforme sobre 97 tokens


def test_eos_detiene_la_generacion(modelo):
    inicio = torch.tensor([[5, 17, 42, 3]])
    voraz = generate_text_simple(modelo, inicio, max_new_tokens=10, context_size=16)
    eos = int(voraz[0, 4 + 3])  # el cuarto token nuevo hace de token de fin
    primero = next(i for i in range(10) if int(voraz[0, 4 + i]) == eos)  # por si ya salía antes
    obtenido = generate(modelo, inicio, max_new_tokens=10, context_size=16, eos_id=eos)
    assert torch.equal(obtenido, voraz[:, : 4 + primero])  # se detiene sin añadir el token de fin
    assert obtenido.shape[1] < voraz.shape[1]
    # Un eos_id que nunca sale no cambia nada
    nunca = next(t for t in range(CFG_MINI["vocab_size"]) if t not in voraz[0, 4:].tolist())
    assert torch.equal(generate(modelo, inicio, max_new_tokens=10, context_size=16, eos_id=nunca), voraz)


def test_eos_en_un_lote_rellena_las_secuencias_terminadas(modelo, inicio):
    voraz = generate_text_simple(modelo, inicio, max_new_tokens=10, context_size=16)
    fila0 = voraz[0, 4:].tolist()
    eos = fila0[2]
    if eos in voraz[1, 4:].tolist():
        pytest.fail("Elige otro inicio: el token de fin de la fila 0 también sale en la fila 1.")
    obtenido = generate(modelo, inicio, max_new_tokens=10, context_size=16, eos_id=eos)
    corte = fila0.index(eos)
    assert obtenido.shape == voraz.shape  # la fila 1 nunca termina: se generan los 10 tokens
    assert torch.equal(obtenido[1], voraz[1])
    assert torch.equal(obtenido[0, : 4 + corte], voraz[0, : 4 + corte])
    assert torch.all(obtenido[0, 4 + corte :] == eos)  # relleno con el token de fin


def test_recorta_el_contexto(modelo):
    largo = torch.arange(40).unsqueeze(0) % CFG_MINI["vocab_size"]  # 40 tokens > context_length 16
    salida = generate(modelo, largo, max_new_tokens=3, context_size=16, temperature=0.0)
    assert torch.equal(salida, generate_text_simple(modelo, largo, max_new_tokens=3, context_size=16))


@pytest.mark.parametrize("temperature", [-0.5, -1e-9, float("nan"), 1e-30, 1e-3, float("inf"), 1e5])
def test_temperatura_fuera_de_rango_da_error(modelo, inicio, temperature):
    """Negativa, NaN, diminuta o infinita: softmax(logits / T) daría inf o nan (o no tendría sentido)."""
    with pytest.raises(ValueError, match=r"^temperature debe ser 0 \(decodificación voraz\) o un número entre 0\.01 y "
                                         r"1000; has pasado"):
        generate(modelo, inicio, max_new_tokens=1, context_size=16, temperature=temperature)


@pytest.mark.parametrize("top_k", [0, -3, 2.5, True, 98])
def test_top_k_no_valido_da_error(modelo, inicio, top_k):
    with pytest.raises(ValueError, match=r"^top_k debe ser un entero entre 1 y 97 \(o None\); has pasado "):
        generate(modelo, inicio, max_new_tokens=1, context_size=16, temperature=1.0, top_k=top_k)


def test_top_k_igual_al_vocabulario_no_filtra_nada(modelo, inicio):
    torch.manual_seed(1)
    a = generate(modelo, inicio, max_new_tokens=4, context_size=16, temperature=1.0, top_k=97)
    torch.manual_seed(1)
    b = generate(modelo, inicio, max_new_tokens=4, context_size=16, temperature=1.0)
    assert torch.equal(a, b)


@pytest.mark.parametrize("eos_id", [97, 50256, -1, 2.0])
def test_eos_id_fuera_del_vocabulario_da_error(modelo, inicio, eos_id):
    with pytest.raises(ValueError, match=r"^eos_id debe ser un entero entre 0 y 96 \(o None\); has pasado "):
        generate(modelo, inicio, max_new_tokens=3, context_size=16, eos_id=eos_id)


@pytest.mark.parametrize(
    ("argumentos", "mensaje"),
    [
        ({"context_size": 0}, r"^context_size debe ser un entero entre 1 y 16 \(o None\); has pasado 0 \(int\)"),
        ({"context_size": -1}, r"^context_size debe ser un entero entre 1 y 16 \(o None\); has pasado -1 \(int\)"),
        ({"context_size": 17}, r"^context_size debe ser un entero entre 1 y 16 \(o None\); has pasado 17 \(int\)"),
        ({"max_new_tokens": -1}, r"^max_new_tokens debe ser un entero mayor o igual que 0; has pasado -1 \(int\)"),
        ({"max_new_tokens": 2.5}, r"^max_new_tokens debe ser un entero mayor o igual que 0; has pasado 2\.5"),
    ],
)
def test_ventana_y_numero_de_tokens_no_validos(modelo, inicio, argumentos, mensaje):
    with pytest.raises(ValueError, match=mensaje):
        generate(modelo, inicio, **{"max_new_tokens": 3, "context_size": 16, **argumentos})


def test_context_size_none_usa_el_contexto_del_modelo(modelo, inicio):
    assert torch.equal(generate(modelo, inicio, max_new_tokens=3, context_size=None),
                       generate(modelo, inicio, max_new_tokens=3, context_size=16))


def test_idx_sin_dimension_de_lote_o_vacio(modelo):
    with pytest.raises(ValueError, match=r"^idx debe tener forma \(lote, num_tokens\); has pasado un tensor de forma "
                                         r"\(4,\)\. Para un solo texto, añade la dimensión del lote con "
                                         r"idx\.unsqueeze\(0\)\.$"):
        generate(modelo, torch.tensor([5, 17, 42, 3]), max_new_tokens=3, context_size=16)
    with pytest.raises(ValueError, match=r"^idx debe tener al menos un texto y un token"):
        generate(modelo, torch.zeros(1, 0, dtype=torch.long), max_new_tokens=3, context_size=16)


def test_empieza_validando_con_check_generation_args():
    """Una sola validación para todos los generadores: la primera instrucción llama a check_generation_args."""
    cuerpo = ast.parse(textwrap.dedent(inspect.getsource(generate))).body[0].body
    primera = cuerpo[1]  # cuerpo[0] es el docstring
    assert ast.unparse(primera) == (
        "context_size = check_generation_args(model, idx, max_new_tokens, context_size, temperature, top_k, eos_id)"
    )
