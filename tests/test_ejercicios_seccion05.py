"""Pruebas de las comprobaciones de los ejercicios de la sección 5 (seccion05/ejercicios.py).

Cada comprobación debe aceptar la solución, responder «todavía sin resolver» a la respuesta de partida (None),
rechazar los errores típicos diciendo qué está mal, no lanzar nunca un error por una respuesta equivocada y no tocar
el generador aleatorio. Usan modelos diminutos: nunca el de 124M ni los pesos de GPT-2.
"""

import json
import math
from pathlib import Path

import pytest
import torch

from seccion02_TrabajarDatosTexto.dataloader_v1 import create_dataloader_v1
from seccion02_TrabajarDatosTexto.theVerdict import load_the_verdict
from seccion04_ImplementacionGPTGeneracionTexto.generateTextSimple import generate_text_simple
from seccion04_ImplementacionGPTGeneracionTexto.gptModel import GPTModel
from seccion05 import ejercicios
from seccion05.calcLoss import calc_loss_batch
from seccion05.ejercicios import (
    CFG_MINI,
    comprobar_ejercicio_5_1,
    comprobar_ejercicio_5_2,
    comprobar_ejercicio_5_3,
    comprobar_ejercicio_5_4,
    comprobar_ejercicio_5_5,
    comprobar_ejercicio_5_6,
    comprobar_ejercicio_5_7,
    comprobar_ejercicio_5_8,
    comprobar_ejercicio_5_9,
    comprobar_ejercicio_5_10,
    comprobar_ejercicio_5_11,
    comprobar_ejercicio_5_12,
    comprobar_ejercicio_5_13,
    comprobar_ejercicio_5_14,
    comprobar_ejercicio_5_15,
    comprobar_ejercicio_5_16,
    comprobar_ejercicio_5_17,
    comprobar_ejercicio_5_18,
    comprobar_ejercicio_5_19,
)
from seccion05.generateCached import generate_cached
from seccion05.gptModelFast import GPTModelFast
from seccion05.loadWeightsGPT2 import GPT2_MODELS, gpt2_config, gpt2_expected_shapes
from seccion05.saveLoadModel import load_checkpoint, save_checkpoint
from tests.configuraciones import CFG_DIMINUTA

SECCION05 = Path(__file__).resolve().parent.parent / "seccion05"


def _salida(capsys) -> str:
    return capsys.readouterr().out


@pytest.fixture(scope="module")
def diminuto():
    torch.manual_seed(123)
    return GPTModel({**CFG_DIMINUTA, "context_length": 32}).eval()


# --- Ejercicio 5.1 ---------------------------------------------------------------------------------------------------

def _probas(t):
    return torch.softmax(ejercicios.LOGITS_JUGUETE / t, dim=0)


def test_5_1_acepta_la_solucion(capsys):
    prob = {t: _probas(t)[6].item() for t in (1, 0.1, 5)}
    assert comprobar_ejercicio_5_1({1: 0, 0.1: 0, 5: 32}, prob) is True
    assert comprobar_ejercicio_5_1([0, 0, 32], list(prob.values())) is True  # también en el orden de temperatures
    assert _salida(capsys) == "Ejercicio 5.1: ¡correcto!\n" * 2


def test_5_1_sin_resolver_y_errores_tipicos(capsys):
    assert comprobar_ejercicio_5_1(None, None) is False
    assert _salida(capsys) == "Ejercicio 5.1: todavía sin resolver.\n"

    prob = {t: _probas(t)[6].item() for t in (1, 0.1, 5)}
    assert comprobar_ejercicio_5_1({1: 0, 0.1: 0, 5: 0.032}, prob) is False
    assert "veces_pizza[5] = 0.032 es una fracción" in _salida(capsys)

    assert comprobar_ejercicio_5_1({1: 343, 0.1: 15, 5: 227}, prob) is False  # las de «toward»
    assert "son las veces de «toward»" in _salida(capsys)

    multiplicada = {t: torch.softmax(ejercicios.LOGITS_JUGUETE * t, dim=0)[6].item() for t in (1, 0.1, 5)}
    assert comprobar_ejercicio_5_1({1: 0, 0.1: 0, 5: 32}, multiplicada) is False
    assert "multiplicar los logits por la temperatura" in _salida(capsys)

    assert comprobar_ejercicio_5_1({1: 0, 5: 32}, prob) is False
    assert "le falta la temperatura 0.1" in _salida(capsys)


# --- Ejercicios 5.2 y 5.3 --------------------------------------------------------------------------------------------

def test_5_2(capsys):
    assert comprobar_ejercicio_5_2("D", "B") is True
    assert comprobar_ejercicio_5_2(" d", "b") is True
    assert _salida(capsys) == "Ejercicio 5.2: ¡correcto!\n" * 2
    assert comprobar_ejercicio_5_2(None, None) is False
    assert _salida(capsys) == "Ejercicio 5.2: todavía sin resolver.\n"
    assert comprobar_ejercicio_5_2("A", "D") is False
    salida = _salida(capsys)
    assert "sigue sorteando entre 10 tokens" in salida and "la temperatura no cambia nada" in salida
    assert comprobar_ejercicio_5_2("E", 3) is False
    assert "debe ser una de las letras A, B, C, D" in _salida(capsys)


def test_5_3(capsys):
    assert comprobar_ejercicio_5_3([{"temperature": 0.0}, {"temperature": 1.5, "top_k": 1}]) is True
    assert _salida(capsys) == "Ejercicio 5.3: ¡correcto!\n"
    assert comprobar_ejercicio_5_3(None) is False
    assert _salida(capsys) == "Ejercicio 5.3: todavía sin resolver.\n"

    assert comprobar_ejercicio_5_3([{"temperature": 0.0, "top_k": 5}]) is False  # solo una de las dos formas
    assert "Falta la otra forma" in _salida(capsys)

    assert comprobar_ejercicio_5_3([{"temperature": 0.0}, {"temperature": 0.01, "top_k": None}]) is False
    assert "sigue sorteando entre todo el vocabulario con T = 0.01" in _salida(capsys)

    assert comprobar_ejercicio_5_3([{"temperature": 0.0}, {"temperature": 1.0, "top_k": 0}]) is False
    assert "ValueError" in _salida(capsys)  # top_k=0 no lo acepta generate

    assert comprobar_ejercicio_5_3([{"temperatura": 0.0}]) is False
    assert "sobra 'temperatura'" in _salida(capsys)


# --- Ejercicio 5.4 ---------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def punto_de_control_5_4(tmp_path_factory):
    """El punto de control del enunciado: el GPT mini tras 2 épocas, con el estado aleatorio."""
    cargador = create_dataloader_v1(load_the_verdict()[:3000], batch_size=4, max_length=32, stride=32, shuffle=True)
    torch.manual_seed(123)
    modelo, opt = _mini()
    _entrenar(modelo, opt, cargador, 2)
    ruta = save_checkpoint(tmp_path_factory.mktemp("ej54") / "mini.pth", modelo, opt, save_rng_state=True, epoch=2)
    return ruta, cargador


def _mini():
    modelo = GPTModel(CFG_MINI)
    return modelo, torch.optim.AdamW(modelo.parameters(), lr=0.0004, weight_decay=0.1)


def _entrenar(modelo, opt, cargador, epocas):
    modelo.train()
    for _ in range(epocas):
        for x, y in cargador:
            opt.zero_grad()
            calc_loss_batch(x, y, modelo, "cpu").backward()
            opt.step()


def test_5_4_acepta_la_reanudacion_exacta(capsys, punto_de_control_5_4):
    ruta, cargador = punto_de_control_5_4
    torch.manual_seed(2024)
    modelo, opt = _mini()
    load_checkpoint(ruta, modelo, opt, restore_rng_state=True)
    _entrenar(modelo, opt, cargador, 1)
    assert comprobar_ejercicio_5_4(modelo, opt) is True
    assert _salida(capsys) == "Ejercicio 5.4: ¡correcto!\n"


def test_5_4_errores_tipicos(capsys, punto_de_control_5_4):
    ruta, cargador = punto_de_control_5_4
    assert comprobar_ejercicio_5_4(None, None) is False
    assert _salida(capsys) == "Ejercicio 5.4: todavía sin resolver.\n"

    torch.manual_seed(2024)
    sin_rng, opt = _mini()
    load_checkpoint(ruta, sin_rng, opt)  # sin restore_rng_state
    _entrenar(sin_rng, opt, cargador, 1)
    assert comprobar_ejercicio_5_4(sin_rng, opt) is False
    assert "restore_rng_state=True" in _salida(capsys)

    torch.manual_seed(2024)
    sin_opt, opt_nuevo = _mini()
    load_checkpoint(ruta, sin_opt, restore_rng_state=True)  # sin el optimizador
    _entrenar(sin_opt, opt_nuevo, cargador, 1)
    assert comprobar_ejercicio_5_4(sin_opt, opt_nuevo) is False
    assert "AdamW solo ha dado 5 pasos" in _salida(capsys)

    sin_entrenar, opt = _mini()
    load_checkpoint(ruta, sin_entrenar, opt, restore_rng_state=True)
    assert comprobar_ejercicio_5_4(sin_entrenar, opt) is False
    assert "falta entrenar la época más" in _salida(capsys)


# --- Ejercicios 5.5 y 5.6 --------------------------------------------------------------------------------------------

def test_5_5(capsys):
    assert comprobar_ejercicio_5_5(None, None, None) is False
    salida = _salida(capsys)
    assert salida.startswith("Ejercicio 5.5: todavía sin resolver.\n")
    assert "necesita los pesos de GPT-2 124M" in salida and "DESCARGAR = True" in salida

    modelo_falso = object()  # con pesos: la comprobación solo compara las cifras
    assert comprobar_ejercicio_5_5(modelo_falso, (3.7551, 3.5601), math.exp(3.5601)) is True
    assert _salida(capsys) == "Ejercicio 5.5: ¡correcto!\n"

    assert comprobar_ejercicio_5_5(modelo_falso, (0.298, 6.526), math.exp(6.526)) is False
    assert "son las del modelo que entrenaste en el cuaderno 2" in _salida(capsys)

    assert comprobar_ejercicio_5_5(modelo_falso, (3.5596, 3.7547), math.exp(3.7547)) is False
    salida = _salida(capsys)
    assert "cambiadas de orden" in salida and "es la de entrenamiento" in salida

    assert comprobar_ejercicio_5_5(None, (4.5, 4.4), 80.0) is False
    salida = _salida(capsys)
    assert "deberían salir unas 3.75 y 3.56" in salida and "necesita los pesos" in salida


def _contar(cfg, cabeza=False, sesgos_qkv=True):
    v, c, e, n = cfg["vocab_size"], cfg["context_length"], cfg["emb_dim"], cfg["n_layers"]
    atencion = 4 * e * e + (4 * e if sesgos_qkv else e)
    bloque = atencion + 8 * e * e + 5 * e + 4 * e
    return v * e + c * e + n * bloque + 2 * e + (v * e if cabeza else 0)


def test_5_6(capsys):
    for nombre in GPT2_MODELS:  # la fórmula de la prueba coincide con el archivo de GPT-2
        cfg = gpt2_config(nombre)
        assert _contar(cfg) == sum(torch.Size(f).numel() for f in gpt2_expected_shapes(cfg).values())
    assert comprobar_ejercicio_5_6(_contar) is True
    assert comprobar_ejercicio_5_6({nombre: _contar(gpt2_config(nombre)) for nombre in GPT2_MODELS}) is True
    assert _salida(capsys) == "Ejercicio 5.6: ¡correcto!\n" * 2

    assert comprobar_ejercicio_5_6(None) is False
    assert comprobar_ejercicio_5_6(lambda cfg: None) is False  # la función del enunciado, sin escribir
    assert _salida(capsys) == "Ejercicio 5.6: todavía sin resolver.\n" * 2

    assert comprobar_ejercicio_5_6(lambda cfg: _contar(cfg, cabeza=True)) is False
    assert "cuenta la cabeza de salida aparte" in _salida(capsys)
    assert comprobar_ejercicio_5_6(lambda cfg: _contar(cfg, sesgos_qkv=False)) is False
    assert "no cuenta los sesgos de consulta, clave y valor" in _salida(capsys)
    assert comprobar_ejercicio_5_6(lambda cfg: cfg["no_existe"]) is False
    assert "KeyError" in _salida(capsys)


# --- Ejercicios 5.7 y 5.8 --------------------------------------------------------------------------------------------

def test_5_7(capsys):
    train_loss, val_loss = 10.98758, 10.98111
    assert comprobar_ejercicio_5_7(math.exp(val_loss), val_loss, train_loss) is True
    assert comprobar_ejercicio_5_7(torch.exp(torch.tensor(val_loss)), val_loss, train_loss) is True
    assert _salida(capsys) == "Ejercicio 5.7: ¡correcto!\n" * 2
    assert comprobar_ejercicio_5_7(None, val_loss, train_loss) is False
    assert _salida(capsys) == "Ejercicio 5.7: todavía sin resolver.\n"
    for respuesta, mensaje in [
        (math.exp(train_loss), "es exp(train_loss)"),
        (val_loss, "es la propia pérdida de validación"),
        (2 ** val_loss, "es 2 elevado a la pérdida"),
        (math.exp(-val_loss), "sobra el signo menos"),
        ("58754", "debe ser un número"),
    ]:
        assert comprobar_ejercicio_5_7(respuesta, val_loss, train_loss) is False
        assert mensaje in _salida(capsys)


def test_5_8(capsys, diminuto):
    ids = torch.tensor([[6109, 3626, 6100, 345, 2651, 11, 530, 2239, 379, 257, 640]])
    inputs, targets = ids[:, :-1], ids[:, 1:]
    with torch.no_grad():
        sin_desplazar = calc_loss_batch(inputs, inputs, diminuto, "cpu").item()
        bien = calc_loss_batch(inputs, targets, diminuto, "cpu").item()
    assert comprobar_ejercicio_5_8(diminuto, ids, inputs, targets, sin_desplazar) is True
    assert _salida(capsys) == "Ejercicio 5.8: ¡correcto!\n"
    assert comprobar_ejercicio_5_8(diminuto, ids, None, None, None) is False
    assert _salida(capsys) == "Ejercicio 5.8: todavía sin resolver.\n"

    assert comprobar_ejercicio_5_8(diminuto, ids, inputs, inputs, sin_desplazar) is False
    assert "falta el desplazamiento" in _salida(capsys)
    assert comprobar_ejercicio_5_8(diminuto, ids, targets, inputs, sin_desplazar) is False
    assert "inputs y targets están cambiados" in _salida(capsys)
    assert comprobar_ejercicio_5_8(diminuto, ids, ids, targets, sin_desplazar) is False
    assert "inputs tiene forma (1, 11); se esperaba (1, 10)" in _salida(capsys)
    assert comprobar_ejercicio_5_8(diminuto, ids, inputs, targets, bien) is False
    assert "es la pérdida con los objetivos bien desplazados" in _salida(capsys)
    assert comprobar_ejercicio_5_8(diminuto, ids, inputs, targets, None) is False
    assert "falta loss_sin_desplazar" in _salida(capsys)


# --- Ejercicios 5.9 y 5.10 -------------------------------------------------------------------------------------------

def test_5_9(capsys):
    assert comprobar_ejercicio_5_9(28, 5) is True
    assert _salida(capsys) == "Ejercicio 5.9: ¡correcto!\n"
    assert comprobar_ejercicio_5_9(None, None) is False
    assert _salida(capsys) == "Ejercicio 5.9: todavía sin resolver.\n"
    assert comprobar_ejercicio_5_9(7, 5) is False
    assert "es la posición del mínimo en la lista" in _salida(capsys)
    assert comprobar_ejercicio_5_9(28, 4) is False
    assert "cuenta las épocas desde 0" in _salida(capsys)
    assert comprobar_ejercicio_5_9(32, 5) is False
    assert "la primera evaluación es la del paso 0" in _salida(capsys)
    assert comprobar_ejercicio_5_9(0, 1) is False
    assert "paso_minimo = 0 es el paso de la pérdida más alta" in _salida(capsys)


def test_5_10(capsys):
    train = [10.99, 9.73, 7.85, 6.34, 6.07, 6.16]
    val = [10.98, 9.85, 7.99, 6.93, 6.82, 6.75]
    assert comprobar_ejercicio_5_10(train, val, val[-1] - train[-1]) is True
    assert _salida(capsys) == "Ejercicio 5.10: ¡correcto!\n"
    assert comprobar_ejercicio_5_10(None, None, None) is False
    assert _salida(capsys) == "Ejercicio 5.10: todavía sin resolver.\n"
    assert comprobar_ejercicio_5_10(train, val, train[-1] - val[-1]) is False
    assert "tiene el signo cambiado" in _salida(capsys)
    assert comprobar_ejercicio_5_10([9.0] * 18, [9.5] * 18, 0.5) is False
    assert "las 18 evaluaciones del GPT de 124M" in _salida(capsys)
    assert comprobar_ejercicio_5_10(train[:3], val[:3], 0.5) is False
    assert "se esperaban 6" in _salida(capsys)
    assert comprobar_ejercicio_5_10(train, val, min(val) - min(train)) is False
    assert "la última pérdida de validación menos la última de entrenamiento" in _salida(capsys)


# --- Ejercicio 5.11 --------------------------------------------------------------------------------------------------

def test_5_11_con_un_modelo_que_no_recita(capsys, diminuto):
    """Un modelo sin entrenar no recita con ninguna temperatura: la respuesta es la primera de la lista."""
    assert comprobar_ejercicio_5_11(diminuto, 0.5) is True
    assert _salida(capsys) == "Ejercicio 5.11: ¡correcto!\n"
    assert comprobar_ejercicio_5_11(diminuto, None) is False
    assert _salida(capsys) == "Ejercicio 5.11: todavía sin resolver.\n"
    assert comprobar_ejercicio_5_11(diminuto, 1.5) is False
    assert "tampoco con T = 0.5, que es menor" in _salida(capsys)
    assert comprobar_ejercicio_5_11(diminuto, 0.7) is False
    assert "debe ser una de las temperaturas [0.5, 1.0, 1.5, 2.0]" in _salida(capsys)


# --- Ejercicios 5.12 a 5.14 ------------------------------------------------------------------------------------------

def test_5_12(capsys):
    modelo = GPTModel(CFG_MINI)
    parametros = sum(p.numel() for p in modelo.parameters())
    assert comprobar_ejercicio_5_12(parametros, 2 * parametros) is True
    assert _salida(capsys) == "Ejercicio 5.12: ¡correcto!\n"
    assert comprobar_ejercicio_5_12(None, None) is False
    assert _salida(capsys) == "Ejercicio 5.12: todavía sin resolver.\n"
    en_state_dict = sum(t.numel() for t in modelo.state_dict().values())
    assert comprobar_ejercicio_5_12(en_state_dict, parametros) is False
    salida = _salida(capsys)
    assert "incluye los 2 048 números de las máscaras causales" in salida
    assert "AdamW guarda dos" in salida
    assert comprobar_ejercicio_5_12(parametros, 3 * parametros) is False
    assert "incluye los pesos del modelo" in _salida(capsys)


def test_5_13(capsys):
    torch.manual_seed(123)
    modelo = GPTModel({**CFG_DIMINUTA, "context_length": 32}).eval()
    ids = torch.tensor([[6109, 3626, 6100, 345]])
    sin = generate_text_simple(modelo, ids, max_new_tokens=20, context_size=32)
    con = generate_cached(GPTModelFast.from_model(modelo), ids, max_new_tokens=20)
    assert comprobar_ejercicio_5_13(modelo, sin, con) is True
    assert _salida(capsys) == "Ejercicio 5.13: ¡correcto!\n"
    assert not modelo.training  # la comprobación deja el modelo como estaba
    assert comprobar_ejercicio_5_13(modelo, None, None) is False
    assert _salida(capsys) == "Ejercicio 5.13: todavía sin resolver.\n"
    assert comprobar_ejercicio_5_13(modelo, sin, sin) is False
    assert "es el mismo tensor" in _salida(capsys)
    otro = generate_cached(GPTModelFast({**CFG_DIMINUTA, "context_length": 32}), ids, max_new_tokens=20)
    assert comprobar_ejercicio_5_13(modelo, sin, otro) is False
    assert "ids_con_cache no es la continuación voraz" in _salida(capsys)
    assert comprobar_ejercicio_5_13(modelo, sin, con[:, :10]) is False
    assert "ids_con_cache tiene 10 tokens; se esperaban 24" in _salida(capsys)


def test_5_14(capsys):
    assert comprobar_ejercicio_5_14(2 * 12 * 12 * 256 * 64 * 4) is True
    assert _salida(capsys) == "Ejercicio 5.14: ¡correcto!\n"
    assert comprobar_ejercicio_5_14(None) is False
    assert _salida(capsys) == "Ejercicio 5.14: todavía sin resolver.\n"
    for respuesta, mensaje in [
        (4_718_592, "es el número de valores guardados"),
        (9_437_184, "es la mitad"),
        (1_572_864, "es lo de una sola capa"),
        (18.9e6, "debe ser un número entero de bytes"),
    ]:
        assert comprobar_ejercicio_5_14(respuesta) is False
        assert mensaje in _salida(capsys)


# --- Ninguna comprobación lanza errores ni toca el generador aleatorio ----------------------------------------------

@pytest.mark.parametrize("comprobar,argumentos", [
    (comprobar_ejercicio_5_1, ("basura", "basura")),
    (comprobar_ejercicio_5_2, (1, 2)),
    (comprobar_ejercicio_5_3, ("basura",)),
    (comprobar_ejercicio_5_4, ("basura", "basura")),
    (comprobar_ejercicio_5_5, (None, "basura", "basura")),
    (comprobar_ejercicio_5_6, ("basura",)),
    (comprobar_ejercicio_5_7, ("basura", 10.0)),
    (comprobar_ejercicio_5_8, ("basura", torch.ones(1, 5, dtype=torch.long), "a", "b")),
    (comprobar_ejercicio_5_9, ("basura", "basura")),
    (comprobar_ejercicio_5_10, ("basura", [1.0], 0.0)),
    (comprobar_ejercicio_5_11, ("basura", 0.5)),
    (comprobar_ejercicio_5_12, ("basura", "basura")),
    (comprobar_ejercicio_5_13, ("basura", torch.ones(1, 24, dtype=torch.long), torch.ones(1, 24, dtype=torch.long))),
    (comprobar_ejercicio_5_14, ("basura",)),
])
def test_respuestas_sin_sentido_no_lanzan_errores(capsys, comprobar, argumentos):
    assert comprobar(*argumentos) is False
    assert "todavía no está bien" in _salida(capsys)


def test_las_comprobaciones_no_gastan_numeros_aleatorios(capsys, diminuto):
    torch.manual_seed(123)
    estado = torch.get_rng_state()
    comprobar_ejercicio_5_1({1: 0, 0.1: 0, 5: 32}, [0.0, 0.0, 0.043])
    comprobar_ejercicio_5_3([{"temperature": 0.0}, {"temperature": 1.0, "top_k": 1}])
    comprobar_ejercicio_5_11(diminuto, 0.5)
    modelo_con_dropout = GPTModel({**CFG_DIMINUTA, "context_length": 32})  # en modo entrenamiento
    ids = torch.tensor([[6109, 3626, 6100, 345, 2651]])
    torch.manual_seed(123)
    estado = torch.get_rng_state()
    comprobar_ejercicio_5_8(modelo_con_dropout, ids, ids[:, :-1], ids[:, 1:], 10.0)
    comprobar_ejercicio_5_13(modelo_con_dropout, ids, ids[:, :3])
    assert torch.equal(torch.get_rng_state(), estado)
    assert modelo_con_dropout.training  # y el modelo sigue en modo entrenamiento


def test_los_datos_de_los_enunciados_son_los_de_los_cuadernos():
    """Las listas que el alumno ve en los cuadernos 2 y 3 son las que usan las comprobaciones."""
    def codigo(nombre):
        cuaderno = json.loads((SECCION05 / nombre).read_text(encoding="utf-8"))
        return "\n".join("".join(c["source"]) for c in cuaderno["cells"] if c["cell_type"] == "code")

    espacio = {}
    linea = next(lin for lin in codigo("2_entrenando_llm.ipynb").splitlines() if lin.startswith("perdidas_val = "))
    exec(linea, espacio)
    assert espacio["perdidas_val"] == ejercicios.PERDIDAS_VALIDACION_5_9

    linea = next(lin for lin in codigo("3_estrategias_decodificacion.ipynb").splitlines() if lin.startswith("OPCIONES = "))
    exec(linea.split("#")[0], espacio)
    assert {k: {"temperature": t, "top_k": k_} for k, (t, k_) in espacio["OPCIONES"].items()} == ejercicios.OPCIONES_5_2
    assert ejercicios.VOCAB_JUGUETE.index("pizza") == 6


# --- Ejercicios 5.15 y 5.16 (cuaderno 7) -----------------------------------------------------------------------------

def _val_5_15():
    """Las pérdidas de validación de las cuatro variantes, las que calcula la comprobación."""
    return {v: list(val) for v, (_, val) in ejercicios._curvas_5_15().items()}


def test_5_15_las_variantes_son_las_del_enunciado():
    """La variante completa, entrenada aquí por separado, da las mismas pérdidas que la de la comprobación."""
    from seccion05.trainModel import train_model

    texto = load_the_verdict()
    corte = int(0.90 * len(texto))
    train_loader = create_dataloader_v1(texto[:corte], batch_size=8, max_length=16, stride=16, drop_last=True,
                                        shuffle=True, num_workers=0)
    val_loader = create_dataloader_v1(texto[corte:], batch_size=8, max_length=16, stride=16, drop_last=False,
                                      shuffle=False, num_workers=0)
    torch.manual_seed(123)
    modelo = GPTModel(ejercicios.CFG_DIMINUTO)
    opt = torch.optim.AdamW(modelo.parameters(), lr=0.1, weight_decay=0.1)
    from seccion02_TrabajarDatosTexto.tokenizerGPT2 import get_tokenizer

    _, val, _, lrs = train_model(modelo, train_loader, val_loader, opt, "cpu", n_epochs=2, eval_freq=12, eval_iter=5,
                                 start_context="Every effort moves you", tokenizer=get_tokenizer(), warmup_steps=14,
                                 initial_lr=1e-5, min_lr=1e-5, max_norm=1.0)
    assert len(lrs) == 72 and max(lrs) == 0.1
    assert val == _val_5_15()["completo"]
    finales = {v: curva[-1] for v, curva in _val_5_15().items()}
    assert len(set(finales.values())) == 4  # las cuatro variantes dan resultados distintos


def test_5_15(capsys):
    val = _val_5_15()
    finales = {v: curva[-1] for v, curva in val.items()}
    pieza = max(ejercicios.PIEZAS_5_15, key=lambda p: finales[ejercicios.PIEZAS_5_15[p]])
    assert pieza == "decaimiento"  # lo que cuenta la solución
    assert comprobar_ejercicio_5_15(val, pieza) is True
    assert _salida(capsys) == "Ejercicio 5.15: ¡correcto!\n"
    assert comprobar_ejercicio_5_15(None, None) is False
    assert _salida(capsys) == "Ejercicio 5.15: todavía sin resolver.\n"

    cambiadas = {**val, "sin_calentamiento": val["sin_recorte"], "sin_recorte": val["sin_calentamiento"]}
    assert comprobar_ejercicio_5_15(cambiadas, pieza) is False
    salida = _salida(capsys)
    assert "perdidas_5_15['sin_calentamiento'] son las pérdidas de la variante 'sin_recorte'" in salida
    assert "con warmup_steps=0" in salida

    entrenamiento = {v: list(train) for v, (train, _) in ejercicios._curvas_5_15().items()}
    assert comprobar_ejercicio_5_15({**val, "completo": entrenamiento["completo"]}, pieza) is False
    assert "son las pérdidas de entrenamiento" in _salida(capsys)

    assert comprobar_ejercicio_5_15(val, "calentamiento") is False
    assert "pieza_5_15 = 'calentamiento': sin esa pieza, la última pérdida de validación" in _salida(capsys)
    assert comprobar_ejercicio_5_15(val, "dropout") is False
    assert "debe ser una de 'calentamiento', 'decaimiento', 'recorte'" in _salida(capsys)

    sin_semilla = {**val, "sin_decaimiento": [x + 0.05 for x in val["sin_decaimiento"]]}
    assert comprobar_ejercicio_5_15(sin_semilla, pieza) is False
    assert "¿Fijaste la semilla 123" in _salida(capsys)
    assert comprobar_ejercicio_5_15({"completo": val["completo"]}, pieza) is False
    assert "le faltan las variantes sin_calentamiento, sin_decaimiento, sin_recorte" in _salida(capsys)


def _recortar_bien(model, max_norm):
    with torch.no_grad():
        norma = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(p.grad) for p in model.parameters()]))
        if norma > max_norm:
            for p in model.parameters():
                p.grad.mul_(max_norm / (norma + 1e-6))
    return norma.item()


def test_5_16(capsys):
    assert comprobar_ejercicio_5_16(_recortar_bien) is True
    assert _salida(capsys) == "Ejercicio 5.16: ¡correcto!\n"
    assert comprobar_ejercicio_5_16(None) is False
    assert _salida(capsys) == "Ejercicio 5.16: todavía sin resolver.\n"
    assert comprobar_ejercicio_5_16(lambda model, max_norm: None) is False  # una función que aún no hace nada
    assert _salida(capsys) == "Ejercicio 5.16: todavía sin resolver.\n"

    def por_parametro(model, max_norm):
        for p in model.parameters():
            torch.nn.utils.clip_grad_norm_([p], max_norm)
        return _recortar_bien(model, float("inf"))

    assert comprobar_ejercicio_5_16(por_parametro) is False
    assert "recortas cada parámetro por separado" in _salida(capsys)

    def siempre(model, max_norm):
        with torch.no_grad():
            norma = _recortar_bien(model, float("inf"))
            for p in model.parameters():
                p.grad.mul_(max_norm / norma)
        return norma

    assert comprobar_ejercicio_5_16(siempre) is False
    assert "Recorta solo si la norma pasa de max_norm" in _salida(capsys)

    def norma_de_despues(model, max_norm):
        _recortar_bien(model, max_norm)
        return _recortar_bien(model, float("inf"))

    assert comprobar_ejercicio_5_16(norma_de_despues) is False
    assert "la norma de después de recortar" in _salida(capsys)

    def sin_devolver(model, max_norm):
        _recortar_bien(model, max_norm)

    assert comprobar_ejercicio_5_16(sin_devolver) is False
    assert "recortar_gradientes no devuelve nada" in _salida(capsys)

    def falla(model, max_norm):
        raise RuntimeError("ups")

    assert comprobar_ejercicio_5_16(falla) is False
    assert "da un error: RuntimeError: ups" in _salida(capsys)


@pytest.mark.parametrize("comprobar,argumentos", [
    (comprobar_ejercicio_5_15, ("basura", "basura")),
    (comprobar_ejercicio_5_15, ({v: "basura" for v in ejercicios.VARIANTES_5_15}, 3)),
    (comprobar_ejercicio_5_16, ("basura",)),
])
def test_5_15_y_5_16_sin_sentido_no_lanzan_errores(capsys, comprobar, argumentos):
    assert comprobar(*argumentos) is False
    assert "todavía no está bien" in _salida(capsys)


def test_5_15_y_5_16_no_gastan_numeros_aleatorios(capsys):
    torch.manual_seed(123)
    estado = torch.get_rng_state()
    comprobar_ejercicio_5_15(_val_5_15(), "decaimiento")
    comprobar_ejercicio_5_16(_recortar_bien)
    assert torch.equal(torch.get_rng_state(), estado)


# --- Cuaderno 8 -----------------------------------------------------------------------------------------------------

def _unigrama(k: float, denominador_sin_kv: bool = False, sobre_train: bool = False) -> float:
    """La pérdida unigrama de la validación calculada con un bucle (no con unigram_perplexity), y dos errores típicos."""
    from collections import Counter

    train_ids, val_ids = ejercicios._ids_verdict()
    cuentas, n, v = Counter(train_ids), len(train_ids), 50257
    evaluados = train_ids if sobre_train else val_ids
    denominador = n if denominador_sin_kv else n + k * v
    return sum(-math.log((cuentas[t] + k) / denominador) for t in evaluados) / len(evaluados)


def test_5_17(capsys):
    bien = _unigrama(0.01)
    assert bien == pytest.approx(6.6465, abs=1e-4)  # la del apartado 2 del cuaderno 8
    assert comprobar_ejercicio_5_17(bien, True, 6.526) is True
    assert _salida(capsys) == "Ejercicio 5.17: ¡correcto!\n"
    assert comprobar_ejercicio_5_17(bien, False, 6.7) is True  # un modelo peor que el unigrama
    assert _salida(capsys) == "Ejercicio 5.17: ¡correcto!\n"
    assert comprobar_ejercicio_5_17(None, None, 6.526) is False
    assert _salida(capsys) == "Ejercicio 5.17: todavía sin resolver.\n"
    for respuesta, mensaje in [
        (math.exp(bien), "es la perplejidad"),
        (-bien, "es negativa"),
        (_unigrama(1.0), "es la del suavizado con k = 1"),
        (_unigrama(0.01, denominador_sin_kv=True), "falta k · V en el denominador"),
        (_unigrama(0.01, sobre_train=True), "es la pérdida sobre train_ids"),
        (bien * 1.01, "pero la pérdida unigrama con k = 0.01 es 6.64648"),
        ("6.6", "perdida_unigrama debe ser un número"),
    ]:
        assert comprobar_ejercicio_5_17(respuesta, True, 6.526) is False
        assert mensaje in _salida(capsys)
    assert comprobar_ejercicio_5_17(bien, False, 6.526) is False
    assert "la pérdida del modelo (6.526) es menor que la unigrama (6.646)" in _salida(capsys)
    assert comprobar_ejercicio_5_17(bien, "sí", 6.526) is False
    assert "gana_el_modelo debe ser True o False" in _salida(capsys)
    assert comprobar_ejercicio_5_17(bien, None, 6.526) is False
    assert "Falta gana_el_modelo" in _salida(capsys)
    assert comprobar_ejercicio_5_17(bien, True, None) is False
    assert "perdida_del_modelo debe ser la pérdida de validación" in _salida(capsys)


def _ece(confianzas, aciertos, n_bins=10, ponderar=True, absoluto=True):
    """El ECE con un bucle por caja, escrito aparte de evalMetrics y de ejercicios._ece_referencia."""
    c = torch.as_tensor(confianzas, dtype=torch.float64).flatten()
    a = torch.as_tensor(aciertos, dtype=torch.float64).flatten()
    huecos, pesos = [], []
    for i in range(n_bins):
        abajo, arriba = i / n_bins, (i + 1) / n_bins
        dentro = (c > abajo) & (c <= arriba) if i > 0 else (c <= arriba)
        if dentro.any():
            hueco = float(a[dentro].mean() - c[dentro].mean())
            huecos.append(abs(hueco) if absoluto else hueco)
            pesos.append(int(dentro.sum()) / c.numel())
    if ponderar:
        return sum(p * h for p, h in zip(pesos, huecos, strict=True))
    return sum(huecos) / len(huecos)


def test_5_18(capsys):
    assert comprobar_ejercicio_5_18(_ece) is True
    assert _salida(capsys) == "Ejercicio 5.18: ¡correcto!\n"
    assert comprobar_ejercicio_5_18(None) is False
    assert _salida(capsys) == "Ejercicio 5.18: todavía sin resolver.\n"
    for funcion, mensaje in [
        (lambda c, a, n_bins=10: _ece(c, a, n_bins, ponderar=False), "la media de los huecos sin ponderar"),
        (lambda c, a, n_bins=10: _ece(c, a, n_bins, absoluto=False), "olvida el valor absoluto"),
        (lambda c, a, n_bins=10: _ece(c, a, 10), "y n_bins=5, tu función da"),  # no usa n_bins
        (lambda c, a, n_bins=10: float("nan"), "cuentas las cajas vacías"),
        (lambda c, a, n_bins=10: [0.1], "ece_a_mano debe devolver un número"),
        (lambda c, a, n_bins=10: 1 / 0, "da un error: ZeroDivisionError"),
        ("basura", "ece_a_mano debe ser una función"),
    ]:
        assert comprobar_ejercicio_5_18(funcion) is False
        assert mensaje in _salida(capsys)


def _tramo(generado, entrenamiento):
    """La subcadena común más larga con un conjunto de n-gramas por longitud (otra idea que la de evalMetrics)."""
    mejor = 0
    for n in range(1, len(generado) + 1):
        vistos = {tuple(entrenamiento[j:j + n]) for j in range(len(entrenamiento) - n + 1)}
        if any(tuple(generado[i:i + n]) in vistos for i in range(len(generado) - n + 1)):
            mejor = n
        else:
            break
    return mejor


def test_5_19(capsys):
    assert [_tramo(g, t) for g, t in ejercicios._casos_5_19()] == [3, 0, 3, 2, 7]  # los tramos de los casos
    assert comprobar_ejercicio_5_19(_tramo) is True
    assert _salida(capsys) == "Ejercicio 5.19: ¡correcto!\n"
    assert comprobar_ejercicio_5_19(None) is False
    assert _salida(capsys) == "Ejercicio 5.19: todavía sin resolver.\n"
    for funcion, mensaje in [
        (lambda g, t: sum(x in set(t) for x in g), "el número de tokens de generado que están en entrenamiento"),
        (lambda g, t: (3, 0), "devuelve la longitud, no el tramo"),
        (lambda g, t: 3, "tramo_copiado([7, 8, 9], [1, 2, 3]) da 3; debería dar 0"),
        (lambda g, t: _tramo(g, t) if len(t) < 20 else 6, "copia un tramo de 7 de otro de 300 da 6; debería dar 7"),
        (lambda g, t: g[99], "da un error: IndexError"),
        ("basura", "tramo_copiado debe ser una función"),
    ]:
        assert comprobar_ejercicio_5_19(funcion) is False
        assert mensaje in _salida(capsys)


def test_5_17_a_5_19_no_gastan_numeros_aleatorios(capsys):
    torch.manual_seed(123)
    estado = torch.get_rng_state()
    comprobar_ejercicio_5_17(_unigrama(0.01), True, 6.526)
    comprobar_ejercicio_5_18(_ece)
    comprobar_ejercicio_5_19(_tramo)
    assert torch.equal(torch.get_rng_state(), estado)
