"""Pruebas de seccion04_ImplementacionGPTGeneracionTexto/checkGenerationArgs.py: la validación común de la generación."""

import math

import pytest
import torch

from seccion04_ImplementacionGPTGeneracionTexto.checkGenerationArgs import (
    MAX_TEMPERATURE,
    MIN_TEMPERATURE,
    check_generation_args,
)
from seccion04_ImplementacionGPTGeneracionTexto.gptModel import GPTModel
from tests.configuraciones import CFG_DIMINUTA

CFG_MINI = {**CFG_DIMINUTA, "vocab_size": 97, "drop_rate": 0.0}


@pytest.fixture(scope="module")
def modelo():
    torch.manual_seed(123)
    return GPTModel(CFG_MINI).eval()


@pytest.fixture
def idx():
    return torch.tensor([[5, 17, 42, 3]])


def test_devuelve_la_ventana(modelo, idx):
    assert check_generation_args(modelo, idx, 5, None) == 16  # None = context_length del modelo
    assert check_generation_args(modelo, idx, 5, 3) == 3
    assert check_generation_args(modelo, idx, 0, 16, temperature=1.4, top_k=97, eos_id=96) == 16
    assert check_generation_args(modelo, idx.int(), 1, 1, temperature=MIN_TEMPERATURE, top_k=1, eos_id=0) == 1
    assert check_generation_args(modelo, idx, 1, 1, temperature=MAX_TEMPERATURE) == 1
    assert check_generation_args(modelo, idx, 1, torch.tensor(4)) == 4  # un tensor 0-d de enteros también vale


@pytest.mark.parametrize(
    ("argumentos", "mensaje"),
    [
        ({"max_new_tokens": -1}, r"^max_new_tokens debe ser un entero mayor o igual que 0; has pasado -1 \(int\)\.$"),
        ({"max_new_tokens": 2.0}, r"^max_new_tokens debe ser un entero mayor o igual que 0; has pasado 2\.0 \(float\)"),
        ({"context_size": 0}, r"^context_size debe ser un entero entre 1 y 16 \(o None\); has pasado 0 \(int\)\. "
                              r"Es la ventana de tokens que ve el modelo, como mucho su context_length=16\.$"),
        ({"context_size": -1}, r"^context_size debe ser un entero entre 1 y 16 \(o None\); has pasado -1 \(int\)"),
        ({"context_size": 17}, r"^context_size debe ser un entero entre 1 y 16 \(o None\); has pasado 17 \(int\)"),
        ({"context_size": True}, r"^context_size debe ser un entero .* has pasado True \(bool\)"),
        ({"top_k": 0}, r"^top_k debe ser un entero entre 1 y 97 \(o None\); has pasado 0 \(int\)\. Es cuántos "
                        r"de los tokens más probables se conservan, como mucho todo el vocabulario \(vocab_size=97\)\.$"),
        ({"top_k": 98}, r"^top_k debe ser un entero entre 1 y 97 \(o None\); has pasado 98 \(int\)"),
        ({"top_k": 2.5}, r"^top_k debe ser un entero entre 1 y 97 \(o None\); has pasado 2\.5 \(float\)"),
        ({"eos_id": 97}, r"^eos_id debe ser un entero entre 0 y 96 \(o None\); has pasado 97 \(int\)\. "
                         r"Debe ser un id del vocabulario \(vocab_size=97\); en GPT-2, <\|endoftext\|> es 50256\.$"),
        ({"eos_id": -1}, r"^eos_id debe ser un entero entre 0 y 96 \(o None\); has pasado -1 \(int\)"),
        ({"eos_id": "50256"}, r"^eos_id debe ser un entero .* has pasado '50256' \(str\)"),
    ],
)
def test_enteros_fuera_de_rango(modelo, idx, argumentos, mensaje):
    completos = {"max_new_tokens": 3, "context_size": 16, **argumentos}
    with pytest.raises(ValueError, match=mensaje):
        check_generation_args(modelo, idx, **completos)


@pytest.mark.parametrize("temperature", [1e-30, 0.001, -0.5, math.inf, math.nan, 1e4, True, "1.0", None])
def test_temperaturas_que_romperian_softmax(modelo, idx, temperature):
    with pytest.raises(ValueError) as info:
        check_generation_args(modelo, idx, 3, 16, temperature=temperature)
    mensaje = str(info.value)
    assert mensaje.startswith(
        "temperature debe ser 0 (decodificación voraz) o un número entre 0.01 y 1000; "
        f"has pasado {temperature!r} ({type(temperature).__name__})."
    )
    assert "softmax(logits / temperature) puede dar inf o nan" in mensaje


def test_los_limites_de_temperatura_no_rompen_softmax_en_float16():
    """El rango admitido es seguro incluso en float16 con logits grandes (|logit| hasta 655)."""
    logits = torch.tensor([[-655.0, 0.0, 300.0, 655.0, float("-inf")]], dtype=torch.float16)  # -inf: fuera de top-k
    for temperature in (MIN_TEMPERATURE, 1.0, MAX_TEMPERATURE):
        probs = torch.softmax((logits / temperature).float(), dim=-1)
        assert torch.isfinite(probs).all(), temperature
    # y justo fuera del rango, sí se rompe: por eso se rechaza
    assert not torch.isfinite(torch.softmax((logits / 0.001).float(), dim=-1)).all()
    assert not torch.isfinite(torch.softmax((logits.float() / 1e-39), dim=-1)).all()


def test_idx_de_una_dimension_dice_como_arreglarlo(modelo):
    with pytest.raises(ValueError) as info:
        check_generation_args(modelo, torch.tensor([5, 17, 42]), 3, 16)
    assert str(info.value) == (
        "idx debe tener forma (lote, num_tokens); has pasado un tensor de forma (3,). "
        "Para un solo texto, añade la dimensión del lote con idx.unsqueeze(0)."
    )


@pytest.mark.parametrize("forma", [(1, 0), (0, 4)])
def test_idx_vacio(modelo, forma):
    with pytest.raises(ValueError, match=r"^idx debe tener al menos un texto y un token .*torch\.tensor\(\[\[50256\]\]\)"):
        check_generation_args(modelo, torch.zeros(forma, dtype=torch.long), 3, 16)


def test_idx_de_tres_dimensiones(modelo):
    with pytest.raises(ValueError, match=r"^idx debe tener forma \(lote, num_tokens\); has pasado un tensor de forma "
                                         r"\(1, 1, 4\)\.$"):
        check_generation_args(modelo, torch.zeros(1, 1, 4, dtype=torch.long), 3, 16)


def test_idx_que_no_es_un_tensor(modelo):
    with pytest.raises(TypeError, match=r"^idx debe ser un tensor .* has pasado un list\. .*torch\.tensor\(\[ids\]\)"):
        check_generation_args(modelo, [[5, 17, 42]], 3, 16)


@pytest.mark.parametrize("dtype", [torch.float32, torch.int16, torch.uint8, torch.bool])
def test_idx_de_otro_tipo(modelo, dtype):
    with pytest.raises(ValueError, match=r"^Los ids de idx deben ser enteros torch\.long .* idx\.long\(\)\.$"):
        check_generation_args(modelo, torch.ones(1, 3, dtype=dtype), 3, 16)


def test_modelo_sin_embeddings(idx):
    with pytest.raises(TypeError, match=r"^model debe ser un GPTModel \(con las capas tok_emb y pos_emb, .*has pasado "
                                        r"un Linear\.$"):
        check_generation_args(torch.nn.Linear(2, 2), idx, 3, 16)
