"""Pruebas de las ayudas comunes de las comprobaciones de ejercicios (seccion02_TrabajarDatosTexto/comprobarEjercicio.py).

`informar` se prueba en tests/test_ejercicios_seccion03.py; aquí, las ayudas que leen y describen las respuestas.
"""

import torch

from seccion02_TrabajarDatosTexto.comprobarEjercicio import (
    a_entero,
    a_numero,
    describir,
    describir_error,
    miles,
    valores,
)


def test_a_entero_acepta_enteros_y_tensores_enteros_de_un_numero():
    assert a_entero(5) == 5
    assert a_entero(torch.tensor(7)) == 7
    assert a_entero(torch.tensor([3])) == 3


def test_a_entero_rechaza_lo_que_no_es_un_entero():
    for x in (True, 2.0, "3", None, torch.tensor(2.0), torch.tensor([1, 2]), torch.tensor(True)):
        assert a_entero(x) is None, x


def test_a_numero_acepta_reales_y_tensores_de_un_numero():
    assert a_numero(3) == 3.0
    assert a_numero(0.5) == 0.5
    assert a_numero(torch.tensor(2.5, requires_grad=True)) == 2.5


def test_a_numero_rechaza_lo_que_no_es_un_numero():
    for x in (False, "0.5", None, [1.0], torch.tensor([1.0, 2.0])):
        assert a_numero(x) is None, x


def test_describir_y_describir_error():
    assert describir(torch.zeros(2, 3)) == "un tensor de forma (2, 3)"
    assert describir([1, 2]) == "un objeto de tipo list"
    assert describir_error("Tu función", ValueError("mal")) == "Tu función da un error: ValueError: mal"


def test_miles_y_valores():
    assert miles(2362368) == "2 362 368"
    assert valores(torch.tensor([0.13904, -0.00000003, 1.0])) == "0.1390  0.0000  1.0000"
