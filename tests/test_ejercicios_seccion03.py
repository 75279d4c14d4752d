"""Pruebas de las comprobaciones de los ejercicios de la sección 3 (seccion03_MecanismosAtencion/ejercicios.py) y de
la salida común de todas ellas (seccion02_TrabajarDatosTexto/comprobarEjercicio.py).

Cada comprobación debe aceptar la solución, responder «todavía sin resolver» a la respuesta de partida (None),
rechazar los errores típicos diciendo qué está mal, y no lanzar nunca un error por una respuesta equivocada.
"""

import pytest
import torch

from seccion02_TrabajarDatosTexto.comprobarEjercicio import informar
from seccion03_MecanismosAtencion import ejercicios
from seccion03_MecanismosAtencion.ejercicios import (
    ENTRADAS,
    comprobar_ejercicio_3_1,
    comprobar_ejercicio_3_2,
    comprobar_ejercicio_3_3,
    comprobar_ejercicio_3_4,
    comprobar_ejercicio_3_5,
)
from seccion03_MecanismosAtencion.multiHeadAttention import MultiHeadAttention, MultiHeadAttentionWrapper
from seccion03_MecanismosAtencion.selfAttention import SelfAttention_v1, SelfAttention_v2

PUNTUACIONES = torch.tensor([[0.9, 0.1, 0.4, 0.3],
                             [0.5, 1.2, 0.2, 0.8],
                             [0.3, 0.7, 1.1, 0.6],
                             [0.2, 0.4, 0.9, 1.5]])  # las del ejercicio 3.4 del cuaderno


def _salida(capsys) -> str:
    return capsys.readouterr().out


# --- informar: la salida común ---------------------------------------------------------------------------------------

def test_informar_sin_resolver_correcto_y_problemas(capsys):
    assert informar("Ejercicio 9.9", None) is False
    assert _salida(capsys) == "Ejercicio 9.9: todavía sin resolver.\n"

    assert informar("Ejercicio 9.9", []) is True
    assert _salida(capsys) == "Ejercicio 9.9: ¡correcto!\n"

    assert informar("Ejercicio 9.9", ["Falta una cosa.", "Y otra."]) is False
    assert _salida(capsys) == "Ejercicio 9.9: todavía no está bien.\n  - Falta una cosa.\n  - Y otra.\n"


# --- Ejercicio 3.1 ---------------------------------------------------------------------------------------------------

def _sa_v2():
    torch.manual_seed(789)
    return SelfAttention_v2(3, 2)


def _sa_v1_con(sa_v2, transformar):
    sa_v1 = SelfAttention_v1(3, 2)
    with torch.no_grad():
        for nombre in ("W_query", "W_key", "W_value"):
            getattr(sa_v1, nombre).copy_(transformar(nombre, getattr(sa_v2, nombre).weight))
    return sa_v1


def test_3_1_acepta_la_solucion(capsys):
    sa_v2 = _sa_v2()
    sa_v1 = _sa_v1_con(sa_v2, lambda nombre, peso: peso.T)
    assert comprobar_ejercicio_3_1(sa_v1, sa_v2) is True
    assert _salida(capsys) == "Ejercicio 3.1: ¡correcto!\n"


def test_3_1_sin_resolver(capsys):
    assert comprobar_ejercicio_3_1(None, _sa_v2()) is False
    assert _salida(capsys) == "Ejercicio 3.1: todavía sin resolver.\n"


def test_3_1_sin_copiar_los_pesos(capsys):
    sa_v2 = _sa_v2()
    torch.manual_seed(123)
    assert comprobar_ejercicio_3_1(SelfAttention_v1(3, 2), sa_v2) is False
    salida = _salida(capsys)
    assert "todavía no está bien" in salida
    assert "sa_v1.W_query no es la traspuesta de sa_v2.W_query.weight" in salida


def test_3_1_copiar_sin_trasponer(capsys):
    """El error típico: poner el peso de nn.Linear, (d_out, d_in), tal cual en SelfAttention_v1."""
    sa_v2 = _sa_v2()
    sa_v1 = SelfAttention_v1(3, 2)
    for nombre in ("W_query", "W_key", "W_value"):
        setattr(sa_v1, nombre, torch.nn.Parameter(getattr(sa_v2, nombre).weight.detach().clone()))
    assert comprobar_ejercicio_3_1(sa_v1, sa_v2) is False
    salida = _salida(capsys)
    assert "sa_v1.W_query tiene forma (2, 3)" in salida and "(d_in, d_out) = (3, 2)" in salida
    assert "trasponla" in salida


def test_3_1_reshape_en_lugar_de_trasponer(capsys):
    sa_v2 = _sa_v2()
    sa_v1 = _sa_v1_con(sa_v2, lambda nombre, peso: peso.reshape(3, 2))
    assert comprobar_ejercicio_3_1(sa_v1, sa_v2) is False
    salida = _salida(capsys)
    assert "sus números están en otro orden" in salida and "Usa .T" in salida


def test_3_1_matrices_cambiadas_de_sitio(capsys):
    sa_v2 = _sa_v2()
    cambio = {"W_query": "W_key", "W_key": "W_query", "W_value": "W_value"}
    sa_v1 = _sa_v1_con(sa_v2, lambda nombre, peso: getattr(sa_v2, cambio[nombre]).weight.T)
    assert comprobar_ejercicio_3_1(sa_v1, sa_v2) is False
    salida = _salida(capsys)
    assert "sa_v1.W_query lleva los pesos de sa_v2.W_key" in salida
    assert "sa_v1.W_key lleva los pesos de sa_v2.W_query" in salida


def test_3_1_el_mismo_objeto_o_una_clase_equivocada(capsys):
    sa_v2 = _sa_v2()
    assert comprobar_ejercicio_3_1(sa_v2, sa_v2) is False
    assert "es el mismo objeto que sa_v2" in _salida(capsys)

    assert comprobar_ejercicio_3_1(_sa_v2(), sa_v2) is False
    assert "sa_v1.W_query es una capa Linear" in _salida(capsys)

    assert comprobar_ejercicio_3_1("sa_v1", sa_v2) is False
    assert "sa_v1 no tiene una matriz W_query" in _salida(capsys)


# --- Ejercicio 3.2 ---------------------------------------------------------------------------------------------------

def test_3_2_acepta_la_solucion(capsys):
    torch.manual_seed(123)
    assert comprobar_ejercicio_3_2(MultiHeadAttentionWrapper(3, 1, 6, 0.0, num_heads=2)) is True
    assert _salida(capsys) == "Ejercicio 3.2: ¡correcto!\n"


def test_3_2_sin_resolver(capsys):
    assert comprobar_ejercicio_3_2(None) is False
    assert _salida(capsys) == "Ejercicio 3.2: todavía sin resolver.\n"


def test_3_2_d_out_2_da_4_numeros(capsys):
    """El punto de partida del ejercicio: d_out=2 con 2 cabezas da vectores de 4 números."""
    assert comprobar_ejercicio_3_2(MultiHeadAttentionWrapper(3, 2, 6, 0.0, num_heads=2)) is False
    salida = _salida(capsys)
    assert "mha(batch) tiene forma (2, 6, 4); se esperaba (2, 6, 2)" in salida
    assert "ahora aportan 2 + 2 números por token" in salida


def test_3_2_una_sola_cabeza(capsys):
    """Dos números por token, pero con una cabeza en lugar de las dos que pide el ejercicio."""
    assert comprobar_ejercicio_3_2(MultiHeadAttentionWrapper(3, 2, 6, 0.0, num_heads=1)) is False
    assert "mha tiene 1 cabezas; el ejercicio pide num_heads=2" in _salida(capsys)


def test_3_2_errores_al_llamarla_no_se_propagan(capsys):
    # context_length=4 < 6 tokens: la capa lanza un ValueError, y la comprobación lo cuenta en lugar de fallar
    assert comprobar_ejercicio_3_2(MultiHeadAttentionWrapper(3, 1, 4, 0.0, num_heads=2)) is False
    salida = _salida(capsys)
    assert "Llamar a mha(batch)" in salida and "ValueError" in salida and "context_length=4" in salida

    assert comprobar_ejercicio_3_2(MultiHeadAttention(3, 2, 6, 0.0, num_heads=2)) is False
    assert "no tiene la lista de cabezas `heads`" in _salida(capsys)


# --- Ejercicio 3.3 ---------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mha_gpt2_original():
    return MultiHeadAttention(768, 768, 1024, 0.0, 12, qkv_bias=True)


def test_3_3_acepta_la_solucion(capsys, mha_gpt2_original):
    num_params = sum(p.numel() for p in mha_gpt2_original.parameters())
    assert num_params == 2_362_368
    assert comprobar_ejercicio_3_3(mha_gpt2_original, num_params) is True
    assert _salida(capsys) == "Ejercicio 3.3: ¡correcto!\n"
    # También un tensor de enteros con un solo número
    assert comprobar_ejercicio_3_3(mha_gpt2_original, torch.tensor(num_params)) is True


def test_3_3_sin_resolver_y_a_medias(capsys, mha_gpt2_original):
    assert comprobar_ejercicio_3_3(None, None) is False
    assert _salida(capsys) == "Ejercicio 3.3: todavía sin resolver.\n"

    assert comprobar_ejercicio_3_3(mha_gpt2_original, None) is False
    assert "num_params sigue valiendo None" in _salida(capsys)


def test_3_3_cuenta_con_la_mascara(capsys, mha_gpt2_original):
    """El error típico: contar el state_dict, que incluye el búfer de la máscara."""
    en_state_dict = sum(t.numel() for t in mha_gpt2_original.state_dict().values())
    assert comprobar_ejercicio_3_3(mha_gpt2_original, en_state_dict) is False
    salida = _salida(capsys)
    assert "num_params = 3 410 944 incluye los 1 048 576 números de la máscara" in salida


def test_3_3_sin_sesgos_qkv(capsys):
    mha = MultiHeadAttention(768, 768, 1024, 0.0, 12)  # la configuración del curso, qkv_bias=False
    assert comprobar_ejercicio_3_3(mha, sum(p.numel() for p in mha.parameters())) is False
    salida = _salida(capsys)
    assert "no tiene sesgo en consultas, claves y valores" in salida
    assert "num_params = 2 360 064 es la cuenta sin sesgos" in salida


def test_3_3_cuenta_equivocada_y_configuracion_equivocada(capsys, mha_gpt2_original):
    assert comprobar_ejercicio_3_3(mha_gpt2_original, 2_362_000) is False
    assert "num_params = 2 362 000 no es el número de parámetros entrenables" in _salida(capsys)

    assert comprobar_ejercicio_3_3(mha_gpt2_original, 2362368.0) is False
    assert "num_params debe ser un número entero" in _salida(capsys)

    pequena = MultiHeadAttention(768, 768, 256, 0.0, 8, qkv_bias=True)
    assert comprobar_ejercicio_3_3(pequena, 2_362_368) is False
    salida = _salida(capsys)
    assert "tiene 8 cabezas; GPT-2 pequeño usa 12" in salida
    assert "context_length=256" in salida


# --- Ejercicio 3.4 ---------------------------------------------------------------------------------------------------

def _causal(puntuaciones):
    futuro = torch.triu(torch.ones(4, 4), diagonal=1).bool()
    return torch.softmax(puntuaciones.masked_fill(futuro, -torch.inf), dim=-1)


def test_3_4_acepta_los_dos_caminos(capsys):
    assert comprobar_ejercicio_3_4(PUNTUACIONES, _causal(PUNTUACIONES)) is True
    anulados = torch.softmax(PUNTUACIONES, dim=-1) * torch.tril(torch.ones(4, 4))
    assert comprobar_ejercicio_3_4(PUNTUACIONES, anulados / anulados.sum(dim=-1, keepdim=True)) is True
    assert _salida(capsys) == "Ejercicio 3.4: ¡correcto!\n" * 2


def test_3_4_sin_resolver(capsys):
    assert comprobar_ejercicio_3_4(PUNTUACIONES, None) is False
    assert _salida(capsys) == "Ejercicio 3.4: todavía sin resolver.\n"


def test_3_4_olvidar_renormalizar(capsys):
    anulados = torch.softmax(PUNTUACIONES, dim=-1) * torch.tril(torch.ones(4, 4))
    assert comprobar_ejercicio_3_4(PUNTUACIONES, anulados) is False
    salida = _salida(capsys)
    assert "Las filas suman 0.3839  0.5904  0.7775  1.0000; cada una debe sumar 1" in salida
    assert "divide cada fila por su suma" in salida


def test_3_4_tapar_el_pasado_o_la_diagonal(capsys):
    pasado = torch.tril(torch.ones(4, 4), diagonal=-1).bool()  # tapa lo de debajo de la diagonal: al revés
    assert comprobar_ejercicio_3_4(PUNTUACIONES, torch.softmax(PUNTUACIONES.masked_fill(pasado, -torch.inf), -1)) is False
    assert "Hay pesos distintos de 0 por encima de la diagonal" in _salida(capsys)

    con_diagonal = torch.triu(torch.ones(4, 4), diagonal=0).bool()  # tapa también la diagonal: fila 0 toda -inf
    pesos = torch.softmax(PUNTUACIONES.masked_fill(con_diagonal, -torch.inf), dim=-1)
    assert comprobar_ejercicio_3_4(PUNTUACIONES, pesos) is False
    assert "Hay valores nan en las filas [0]" in _salida(capsys)


def test_3_4_escalar_de_mas_forma_y_tipo(capsys):
    assert comprobar_ejercicio_3_4(PUNTUACIONES, _causal(PUNTUACIONES / 2)) is False
    salida = _salida(capsys)
    assert "los valores no son la softmax de las puntuaciones enmascaradas" in salida
    assert "0.1265  0.1545  0.2548  0.4642" in salida  # la última fila esperada

    assert comprobar_ejercicio_3_4(PUNTUACIONES, _causal(PUNTUACIONES)[:3]) is False
    assert "pesos tiene forma (3, 4); se esperaba (4, 4)" in _salida(capsys)

    assert comprobar_ejercicio_3_4(PUNTUACIONES, [[1.0, 0.0], [0.5, 0.5]]) is False
    assert "pesos debe ser un tensor" in _salida(capsys)


# --- Ejercicio 3.5 ---------------------------------------------------------------------------------------------------

def test_3_5_acepta_la_solucion(capsys):
    pesos = torch.softmax(ENTRADAS @ ENTRADAS[2], dim=0)
    assert comprobar_ejercicio_3_5(pesos, pesos @ ENTRADAS) is True
    assert _salida(capsys) == "Ejercicio 3.5: ¡correcto!\n"
    # La tercera fila de la matriz completa del cuaderno también vale
    todos = torch.softmax(ENTRADAS @ ENTRADAS.T, dim=-1)
    assert comprobar_ejercicio_3_5(todos[2], (todos @ ENTRADAS)[2]) is True


def test_3_5_sin_resolver_y_a_medias(capsys):
    assert comprobar_ejercicio_3_5(None, None) is False
    assert _salida(capsys) == "Ejercicio 3.5: todavía sin resolver.\n"

    pesos = torch.softmax(ENTRADAS @ ENTRADAS[2], dim=0)
    assert comprobar_ejercicio_3_5(pesos, None) is False
    assert "context_vec_3 sigue valiendo None" in _salida(capsys)


def test_3_5_el_token_equivocado(capsys):
    """El error típico: inputs[3] («with») en lugar de inputs[2] («starts»)."""
    pesos = torch.softmax(ENTRADAS @ ENTRADAS[3], dim=0)
    assert comprobar_ejercicio_3_5(pesos, pesos @ ENTRADAS) is False
    salida = _salida(capsys)
    assert "attn_weights_3 son los pesos de «with» (fila 3), no los de «starts»" in salida
    assert "context_vec_3 vale" in salida


def test_3_5_dividir_por_la_suma(capsys):
    puntuaciones = ENTRADAS @ ENTRADAS[2]
    pesos = puntuaciones / puntuaciones.sum()
    assert comprobar_ejercicio_3_5(pesos, pesos @ ENTRADAS) is False
    assert "normalizados dividiendo por la suma" in _salida(capsys)


def test_3_5_formas_equivocadas(capsys):
    assert comprobar_ejercicio_3_5(torch.ones(3), torch.ones(6)) is False
    salida = _salida(capsys)
    assert "attn_weights_3 debe tener 6 pesos" in salida
    assert "context_vec_3 debe tener 3 números" in salida


# --- Ninguna comprobación toca el generador aleatorio ni lanza errores ----------------------------------------------

@pytest.mark.parametrize("comprobar,argumentos", [
    (comprobar_ejercicio_3_1, ("basura", 42)),
    (comprobar_ejercicio_3_2, ("basura",)),
    (comprobar_ejercicio_3_3, ("basura", "basura")),
    (comprobar_ejercicio_3_4, ("basura", torch.ones(2))),
    (comprobar_ejercicio_3_5, ("basura", "basura")),
])
def test_respuestas_sin_sentido_no_lanzan_errores(capsys, comprobar, argumentos):
    assert comprobar(*argumentos) is False
    assert "todavía no está bien" in _salida(capsys)


def test_las_comprobaciones_no_gastan_numeros_aleatorios(capsys):
    """Comprobar una respuesta no cambia los números que sortean las celdas siguientes del cuaderno, aunque la capa
    del alumno tenga dropout y esté en modo entrenamiento."""
    sa_v2 = _sa_v2()
    sa_v1 = _sa_v1_con(sa_v2, lambda nombre, peso: peso.T)
    con_dropout = MultiHeadAttentionWrapper(3, 1, 6, 0.5, num_heads=2)  # modo entrenamiento: el dropout sortea
    torch.manual_seed(123)
    estado = torch.get_rng_state()
    assert comprobar_ejercicio_3_1(sa_v1, sa_v2) is True
    assert comprobar_ejercicio_3_2(con_dropout) is True
    assert torch.equal(torch.get_rng_state(), estado)


def test_las_entradas_son_las_del_cuaderno():
    assert ejercicios.ENTRADAS.shape == (6, 3)
    assert ejercicios.PALABRAS == ["Your", "journey", "starts", "with", "one", "step"]
    assert torch.equal(ejercicios.ENTRADAS[1], torch.tensor([0.55, 0.87, 0.66]))
