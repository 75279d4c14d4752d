"""Pruebas de seccion02_TrabajarDatosTexto/checkArgs.py: enteros y números con errores en español."""

import math

import numpy as np
import pytest
import torch

from seccion02_TrabajarDatosTexto.checkArgs import check_int, check_number


@pytest.mark.parametrize("valor", [1, 4, 10**6, np.int64(4), torch.tensor(4), torch.tensor(4, dtype=torch.int32)])
def test_check_int_acepta_enteros_y_devuelve_int(valor):
    resultado = check_int("n_heads", valor, minimum=1)
    assert resultado == int(valor)
    assert type(resultado) is int


@pytest.mark.parametrize(
    ("valor", "descripcion"),
    [
        (4.0, "4.0 (float)"),
        (2.5, "2.5 (float)"),
        (True, "True (bool)"),
        ("4", "'4' (str)"),
        (None, "None (NoneType)"),
        (torch.tensor(4.0), "tensor(4.) (Tensor)"),
        (torch.tensor([4]), "tensor([4]) (Tensor)"),
        (torch.tensor(True), "tensor(True) (Tensor)"),
    ],
)
def test_check_int_rechaza_lo_que_no_es_un_entero(valor, descripcion):
    with pytest.raises(ValueError) as info:
        check_int("n_heads", valor, minimum=1)
    assert str(info.value) == f"n_heads debe ser un entero mayor o igual que 1; has pasado {descripcion}."


def test_check_int_mensajes_de_rango():
    with pytest.raises(ValueError, match=r"^n_layers debe ser un entero mayor o igual que 1; has pasado -1 \(int\)\.$"):
        check_int("n_layers", -1, minimum=1)
    with pytest.raises(ValueError, match=r"^top_k debe ser un entero entre 1 y 97; has pasado 98 \(int\)\.$"):
        check_int("top_k", 98, minimum=1, maximum=97)
    with pytest.raises(ValueError, match=r"^x debe ser un entero menor o igual que 5; has pasado 6 \(int\)\.$"):
        check_int("x", 6, maximum=5)
    with pytest.raises(ValueError, match=r"^x debe ser un entero; has pasado 'a' \(str\)\.$"):
        check_int("x", "a")
    assert check_int("x", 1, minimum=1, maximum=1) == 1  # los extremos se admiten
    assert check_int("x", -7) == -7  # sin límites, cualquier entero


def test_check_int_con_none_y_con_pista():
    assert check_int("num_batches", None, minimum=1, allow_none=True) is None
    with pytest.raises(ValueError) as info:
        check_int("num_batches", 2.5, minimum=1, allow_none=True)
    assert str(info.value) == (
        "num_batches debe ser un entero mayor o igual que 1 (o None); has pasado 2.5 (float)."
    )
    with pytest.raises(ValueError, match=r"has pasado 0 \(int\)\. Usa None para todos\.$"):
        check_int("num_batches", 0, minimum=1, allow_none=True, hint="Usa None para todos.")


def test_check_int_recorta_valores_muy_largos():
    with pytest.raises(ValueError) as info:
        check_int("x", "a" * 500)
    assert len(str(info.value)) < 120
    assert "... (str)" in str(info.value)


@pytest.mark.parametrize("valor", [0, 0.0, 0.5, 1, np.float32(0.25), torch.tensor(0.5)])
def test_check_number_acepta_numeros_y_devuelve_float(valor):
    resultado = check_number("drop_rate", valor, minimum=0, maximum=1)
    assert resultado == float(valor)
    assert type(resultado) is float


@pytest.mark.parametrize(
    ("valor", "descripcion"),
    [
        (float("nan"), "nan (float)"),
        (math.inf, "inf (float)"),
        (-0.1, "-0.1 (float)"),
        (1.5, "1.5 (float)"),
        (True, "True (bool)"),
        ("0.1", "'0.1' (str)"),
        (None, "None (NoneType)"),
    ],
)
def test_check_number_rechaza_lo_que_no_vale(valor, descripcion):
    with pytest.raises(ValueError) as info:
        check_number("drop_rate", valor, minimum=0, maximum=1)
    assert str(info.value) == f"drop_rate debe ser un número finito entre 0 y 1; has pasado {descripcion}."


def test_check_number_infinito_solo_si_se_permite():
    with pytest.raises(ValueError, match=r"^x debe ser un número finito mayor o igual que 0; has pasado inf"):
        check_number("x", math.inf, minimum=0)
    assert check_number("x", math.inf, minimum=0, allow_inf=True) == math.inf
    with pytest.raises(ValueError, match=r"^x debe ser un número mayor o igual que 0; has pasado nan"):
        check_number("x", math.nan, minimum=0, allow_inf=True)  # NaN nunca
    with pytest.raises(ValueError, match=r"has pasado -1 \(int\)\. Prueba con 0\.1\.$"):
        check_number("x", -1, minimum=0, hint="Prueba con 0.1.")
