"""Pruebas de seccion05/trainModelSimple.py: el bucle de entrenamiento del libro, su evaluación,
las muestras de texto, la gráfica de pérdidas y el punto de control del modelo entrenado.

Todas usan un GPT diminuto (emb_dim 32, 2 capas, 2 cabezas, contexto 16) y un trozo de «The Verdict».
"""

from __future__ import annotations

import itertools
import math
import os
import re

import matplotlib
import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from seccion02_TrabajarDatosTexto.dataloader_v1 import create_dataloader_v1
from seccion02_TrabajarDatosTexto.theVerdict import load_the_verdict
from seccion02_TrabajarDatosTexto.tokenizerGPT2 import get_tokenizer
from seccion04_ImplementacionGPTGeneracionTexto.gptModel import GPTModel
from seccion05 import trainModelSimple
from seccion05.calcLoss import calc_loss_loader
from seccion05.modelsDir import DEFAULT_MODELS_DIR
from seccion05.trainModelSimple import (
    CLASS_MODEL_NAME,
    VERDICT_MODEL_NAME,
    evaluate_model,
    generate_and_print_sample,
    load_verdict_model,
    plot_losses,
    save_verdict_model,
    train_model_simple,
    train_verdict_model,
    verdict_model_path,
)
from tests.configuraciones import CFG_DIMINUTA

matplotlib.use("Agg")

START_CONTEXT = "Every effort moves you"
CFG_PEQUENA = CFG_DIMINUTA
BATCH_SIZE = 2

# Ejecución de referencia, obtenida a mano con el código del autor del libro
# (llms_from_scratch.ch05.train_model_simple con su GPTModel), con los mismos datos, semilla,
# optimizador y argumentos que `_preparar()` + `_entrenar(num_epochs=2, eval_freq=4, eval_iter=2)`:
# 11 lotes de entrenamiento por época, 4 de validación, evaluación en los pasos 0, 4, ..., 20.
REFERENCIA_LIBRO_TRAIN = [11.010785579681396, 10.929244995117188, 10.945961952209473,
                          10.907839298248291, 10.882323265075684, 10.880087852478027]
REFERENCIA_LIBRO_VAL = [11.028290271759033, 11.011608600616455, 10.994940280914307,
                        10.979109764099121, 10.963598251342773, 10.948559284210205]
REFERENCIA_LIBRO_TOKENS = [32, 160, 288, 416, 544, 672]


@pytest.fixture(scope="module", autouse=True)
def un_hilo():
    """Un solo hilo: con matrices tan pequeñas, repartir el trabajo entre hilos cuesta más de lo que ahorra
    (en una máquina cargada, diez veces más)."""
    hilos = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(hilos)


@pytest.fixture(scope="module")
def tokenizer():
    return get_tokenizer()


@pytest.fixture(scope="module")
def textos():
    """Un trozo del conjunto de entrenamiento y otro del de validación (reparto 90/10 del cuaderno 1)."""
    text_data = load_the_verdict()
    split_idx = int(0.90 * len(text_data))
    return text_data[:split_idx][:1500], text_data[split_idx:][:500]


def _preparar(textos, lr=0.0004):
    """Cargadores, modelo y optimizador como en el cuaderno, pero en miniatura."""
    train_text, val_text = textos
    torch.manual_seed(123)
    train_loader = create_dataloader_v1(train_text, batch_size=BATCH_SIZE, max_length=16, stride=16,
                                        drop_last=True, shuffle=True, num_workers=0)
    val_loader = create_dataloader_v1(val_text, batch_size=BATCH_SIZE, max_length=16, stride=16,
                                      drop_last=False, shuffle=False, num_workers=0)
    torch.manual_seed(123)
    model = GPTModel(CFG_PEQUENA)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.1)
    return model, optimizer, train_loader, val_loader


def _entrenar(textos, tokenizer, num_epochs=2, eval_freq=4, eval_iter=2, lr=0.0004):
    model, optimizer, train_loader, val_loader = _preparar(textos, lr)
    model.eval()  # train_model_simple debe pasar por su cuenta al modo entrenamiento (con dropout)
    resultado = train_model_simple(model, train_loader, val_loader, optimizer, "cpu", num_epochs=num_epochs,
                                   eval_freq=eval_freq, eval_iter=eval_iter, start_context=START_CONTEXT,
                                   tokenizer=tokenizer)
    return resultado, model, train_loader


def _perdida(model, entradas, objetivos):
    logits = model(entradas)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), objetivos.reshape(-1))


def _perdida_media(model, loader, num_batches):
    perdidas = [_perdida(model, x, y).item() for x, y in itertools.islice(loader, num_batches)]
    return sum(perdidas) / len(perdidas)


def _greedy(model, tokenizer, texto, nuevos=50):
    ids = tokenizer.encode(texto)
    with torch.no_grad():
        for _ in range(nuevos):
            logits = model(torch.tensor([ids[-CFG_PEQUENA["context_length"]:]]))
            ids.append(int(logits[0, -1].argmax()))
    return tokenizer.decode(ids)


def _bucle_independiente(model, optimizer, train_loader, val_loader, tokenizer, num_epochs, eval_freq, eval_iter):
    """El mismo entrenamiento escrito de la forma más directa, sin usar el módulo ni calcLoss.

    Recorre los cargadores en el mismo orden que el libro (cada recorrido del cargador barajado
    consume un número del generador global, así que el orden importa).
    """
    train_losses, val_losses, tokens, muestras, paso, vistos = [], [], [], [], 0, 0
    for _ in range(num_epochs):
        model.train()
        for entradas, objetivos in train_loader:
            optimizer.zero_grad()
            _perdida(model, entradas, objetivos).backward()
            optimizer.step()
            vistos += entradas.shape[0] * entradas.shape[1]
            if paso % eval_freq == 0:
                model.eval()
                with torch.no_grad():
                    train_losses.append(_perdida_media(model, train_loader, eval_iter))
                    val_losses.append(_perdida_media(model, val_loader, eval_iter))
                model.train()
                tokens.append(vistos)
            paso += 1
        model.eval()
        muestras.append(_greedy(model, tokenizer, START_CONTEXT).replace("\n", " "))
        model.train()
    return train_losses, val_losses, tokens, muestras


LINEA = re.compile(r"^Época (\d+)/(\d+) \(paso (\d{6})\): pérdida de entrenamiento (\d+\.\d{3}), de validación (\d+\.\d{3})$")


def test_reproduce_la_ejecucion_de_referencia_del_libro(textos, tokenizer, capsys):
    (train_losses, val_losses, tokens_seen), _, _ = _entrenar(textos, tokenizer)
    # Los últimos dígitos dependen de la CPU; un lote u orden distinto cambia ya la tercera cifra.
    torch.testing.assert_close(train_losses, REFERENCIA_LIBRO_TRAIN, rtol=1e-5, atol=0)
    torch.testing.assert_close(val_losses, REFERENCIA_LIBRO_VAL, rtol=1e-5, atol=0)
    assert tokens_seen == REFERENCIA_LIBRO_TOKENS
    lineas = capsys.readouterr().out.splitlines()
    assert lineas[0] == "Época 1/2 (paso 000000): pérdida de entrenamiento 11.011, de validación 11.028"
    assert lineas[-2] == "Época 2/2 (paso 000020): pérdida de entrenamiento 10.880, de validación 10.949"


def test_coincide_con_un_bucle_independiente(textos, tokenizer, capsys):
    # Con una tasa de aprendizaje mayor las pérdidas cambian más de un paso a otro: la prueba es más exigente.
    (train_losses, val_losses, tokens_seen), _, _ = _entrenar(textos, tokenizer, num_epochs=3, eval_freq=3,
                                                              eval_iter=3, lr=0.004)
    muestras = [linea for linea in capsys.readouterr().out.splitlines() if not linea.startswith("Época")]

    model, optimizer, train_loader, val_loader = _preparar(textos, lr=0.004)
    esperado = _bucle_independiente(model, optimizer, train_loader, val_loader, tokenizer,
                                    num_epochs=3, eval_freq=3, eval_iter=3)
    # Mismas operaciones en la misma máquina: resultados idénticos bit a bit.
    assert train_losses == esperado[0]
    assert val_losses == esperado[1]
    assert tokens_seen == esperado[2]
    assert muestras == esperado[3]
    assert train_losses[-1] < train_losses[0] - 1  # de verdad ha aprendido algo


def test_numero_de_evaluaciones_tokens_vistos_y_numeracion_de_pasos(textos, tokenizer, capsys):
    num_epochs, eval_freq = 3, 4
    (train_losses, val_losses, tokens_seen), _, train_loader = _entrenar(textos, tokenizer, num_epochs=num_epochs,
                                                                         eval_freq=eval_freq)
    lotes = len(train_loader)
    assert lotes == 11  # 11 no es múltiplo de 4: la numeración sigue de una época a la siguiente
    pasos = list(range(0, num_epochs * lotes, eval_freq))  # 0, 4, ..., 32
    assert len(train_losses) == len(val_losses) == len(tokens_seen) == math.ceil(num_epochs * lotes / eval_freq) == 9
    # Tras el paso s (contando desde 0) el modelo ha visto (s + 1) lotes de batch_size × contexto tokens.
    assert tokens_seen == [(s + 1) * BATCH_SIZE * CFG_PEQUENA["context_length"] for s in pasos]

    salida = capsys.readouterr().out.splitlines()
    evaluaciones = [LINEA.match(linea) for linea in salida if linea.startswith("Época")]
    assert all(evaluaciones)
    assert [int(m.group(3)) for m in evaluaciones] == pasos
    assert [int(m.group(1)) for m in evaluaciones] == [s // lotes + 1 for s in pasos]
    assert {int(m.group(2)) for m in evaluaciones} == {num_epochs}
    assert [float(m.group(4)) for m in evaluaciones] == [round(x, 3) for x in train_losses]
    assert [float(m.group(5)) for m in evaluaciones] == [round(x, 3) for x in val_losses]

    # Una muestra al final de cada época, justo después de su última evaluación
    muestras = [i for i, linea in enumerate(salida) if not linea.startswith("Época")]
    assert len(muestras) == num_epochs
    assert all(salida[i].startswith(START_CONTEXT) for i in muestras)
    ultima_de_cada_epoca = [max(i for i, linea in enumerate(salida[:m]) if linea.startswith("Época")) for m in muestras]
    assert [int(LINEA.match(salida[i]).group(1)) for i in ultima_de_cada_epoca] == [1, 2, 3]


def test_evaluate_model_sin_gradientes_en_modo_evaluacion_y_vuelve_a_entrenamiento(textos):
    model, _, train_loader, val_loader = _preparar(textos)
    model.eval()
    torch.manual_seed(1)
    esperado = (calc_loss_loader(train_loader, model, "cpu", num_batches=2),
                calc_loss_loader(val_loader, model, "cpu", num_batches=2))
    model.train()
    estados = []  # (¿modo entrenamiento?, ¿gradientes activos?) en cada pasada hacia delante
    model.register_forward_hook(lambda m, entrada, salida: estados.append((m.training, torch.is_grad_enabled())))
    torch.manual_seed(1)  # mismo orden de lotes (el cargador de entrenamiento está barajado)
    resultado = evaluate_model(model, train_loader, val_loader, "cpu", eval_iter=2)
    assert resultado == esperado  # en modo entrenamiento, con dropout, saldría otra cosa
    assert estados == [(False, False)] * 4  # 2 lotes de entrenamiento y 2 de validación
    assert model.training


def test_generate_and_print_sample_imprime_una_linea_y_vuelve_a_entrenamiento(textos, tokenizer, capsys):
    model, *_ = _preparar(textos)
    model.train()
    generate_and_print_sample(model, tokenizer, "cpu", START_CONTEXT)
    salida = capsys.readouterr().out
    assert salida.count("\n") == 1 and salida.startswith(START_CONTEXT)
    model.eval()
    assert salida == _greedy(model, tokenizer, START_CONTEXT).replace("\n", " ") + "\n"
    model.train()
    generate_and_print_sample(model, tokenizer, "cpu", START_CONTEXT)
    assert model.training


@pytest.mark.parametrize(
    ("argumentos", "mensaje"),
    [
        ({"num_epochs": 0}, r"num_epochs debe ser un entero mayor o igual que 1; has pasado 0 \(int\)"),
        ({"num_epochs": -2}, "num_epochs debe ser un entero mayor o igual que 1; has pasado -2"),
        ({"num_epochs": 2.5}, r"num_epochs debe ser un entero mayor o igual que 1; has pasado 2.5 \(float\)"),
        ({"eval_freq": 0}, r"eval_freq \(evalúa cada eval_freq pasos\) debe ser un entero mayor o igual que 1"),
        ({"eval_freq": True}, r"eval_freq .* has pasado True \(bool\)"),
        ({"eval_iter": 0}, r"eval_iter \(lotes por evaluación\) debe ser un entero mayor o igual que 1 \(o None\)"),
        ({"start_context": ""}, "start_context debe ser un texto no vacío"),
        ({"start_context": "   "}, "start_context debe ser un texto no vacío"),
        ({"start_context": None}, "start_context debe ser un texto no vacío.*has pasado None"),
    ],
)
def test_argumentos_no_validos(textos, tokenizer, argumentos, mensaje):
    model, optimizer, train_loader, val_loader = _preparar(textos)
    antes = [p.detach().clone() for p in model.parameters()]
    kwargs = {"num_epochs": 1, "eval_freq": 5, "eval_iter": 1, "start_context": START_CONTEXT, **argumentos}
    with pytest.raises(ValueError, match=mensaje):
        train_model_simple(model, train_loader, val_loader, optimizer, "cpu", tokenizer=tokenizer, **kwargs)
    # El error llega antes de entrenar nada
    assert all(torch.equal(a, p) for a, p in zip(antes, model.parameters(), strict=True))


def test_sin_tokenizador_falla_antes_de_entrenar(textos):
    model, optimizer, train_loader, val_loader = _preparar(textos)
    antes = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(TypeError, match="tokenizer debe tener los métodos encode y decode.*has pasado NoneType"):
        train_model_simple(model, train_loader, val_loader, optimizer, "cpu", num_epochs=1, eval_freq=5, eval_iter=1,
                           start_context=START_CONTEXT, tokenizer=None)
    assert all(torch.equal(a, p) for a, p in zip(antes, model.parameters(), strict=True))


def test_cargador_de_entrenamiento_vacio(textos, tokenizer):
    model, optimizer, _, val_loader = _preparar(textos)
    vacio = DataLoader(TensorDataset(torch.zeros(0, 16, dtype=torch.long), torch.zeros(0, 16, dtype=torch.long)))
    with pytest.raises(ValueError, match="El cargador de entrenamiento no tiene ningún lote"):
        train_model_simple(model, vacio, val_loader, optimizer, "cpu", num_epochs=1, eval_freq=1, eval_iter=1,
                           start_context=START_CONTEXT, tokenizer=tokenizer)


def test_plot_losses_epocas_abajo_y_tokens_vistos_arriba():
    epochs_seen = torch.linspace(0, 2, 4)
    tokens_seen, train_losses, val_losses = [32, 160, 288, 416], [9.0, 7.0, 5.0, 4.0], [9.5, 8.0, 7.5, 7.6]
    fig = plot_losses(epochs_seen, tokens_seen, train_losses, val_losses)
    try:
        ax1, ax2 = fig.axes
        assert ax1.get_xlabel() == "Épocas" and ax1.get_ylabel() == "Pérdida"
        assert ax2.get_xlabel() == "Tokens vistos"
        entrenamiento, validacion = ax1.get_lines()
        assert list(entrenamiento.get_ydata()) == train_losses and list(validacion.get_ydata()) == val_losses
        assert list(ax2.get_lines()[0].get_xdata()) == tokens_seen
        assert [t.get_text() for t in ax1.get_legend().get_texts()] == ["Pérdida de entrenamiento",
                                                                       "Pérdida de validación"]
    finally:
        matplotlib.pyplot.close(fig)


def test_guardar_y_cargar_el_modelo(tmp_path, textos):
    model, optimizer, train_loader, _ = _preparar(textos)
    x, y = next(iter(train_loader))
    optimizer.zero_grad()
    _perdida(model, x, y).backward()
    optimizer.step()  # para que el optimizador tenga estado que guardar

    ruta = save_verdict_model(model, optimizer, CFG_PEQUENA, tmp_path / "modelos" / "gpt_verdict.pth")
    assert ruta == tmp_path / "modelos" / "gpt_verdict.pth"
    assert os.listdir(ruta.parent) == ["gpt_verdict.pth"]  # no queda ningún archivo temporal

    checkpoint = torch.load(ruta, weights_only=True)
    assert set(checkpoint) == {"model_state_dict", "optimizer_state_dict", "config"}
    assert checkpoint["config"] == CFG_PEQUENA
    assert checkpoint["optimizer_state_dict"]["param_groups"][0]["lr"] == 0.0004

    cargado = load_verdict_model(ruta, device="cpu")
    assert isinstance(cargado, GPTModel) and not cargado.training
    for (nombre, a), (nombre_b, b) in zip(model.state_dict().items(), cargado.state_dict().items(), strict=True):
        assert nombre == nombre_b and torch.equal(a, b)
    model.eval()
    assert torch.equal(model(x), cargado(x))


def test_guardar_es_atomico(tmp_path, textos, monkeypatch):
    model, optimizer, *_ = _preparar(textos)
    ruta = save_verdict_model(model, optimizer, CFG_PEQUENA, tmp_path / "gpt_verdict.pth")
    contenido = ruta.read_bytes()

    def falla(*args, **kwargs):
        raise OSError("disco lleno")

    monkeypatch.setattr(trainModelSimple.torch, "save", falla)
    with pytest.raises(OSError, match="disco lleno"):
        save_verdict_model(model, optimizer, CFG_PEQUENA, ruta)
    assert ruta.read_bytes() == contenido  # el archivo anterior sigue intacto
    assert os.listdir(tmp_path) == ["gpt_verdict.pth"]  # y no queda el temporal


def test_cargar_una_ruta_que_no_existe(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"No encuentro el modelo entrenado en .*no_existe\.pth"):
        load_verdict_model(tmp_path / "no_existe.pth")


def test_ruta_por_defecto_y_con_LLM_MODELOS_DIR(tmp_path, monkeypatch):
    monkeypatch.delenv("LLM_MODELOS_DIR", raising=False)
    assert verdict_model_path() == DEFAULT_MODELS_DIR / "gpt_verdict.pth"
    assert DEFAULT_MODELS_DIR.parts[-2:] == ("seccion05", "modelos")
    monkeypatch.setenv("LLM_MODELOS_DIR", str(tmp_path))
    assert verdict_model_path() == tmp_path.resolve() / "gpt_verdict.pth"


def test_las_pruebas_no_usan_la_carpeta_del_alumno():
    """conftest.py da a toda la sesión una carpeta temporal: nada de lo que se ejecuta aquí escribe en seccion05/modelos."""
    assert verdict_model_path().parent != DEFAULT_MODELS_DIR
    assert "LLM_MODO_CLASE" not in os.environ


def _guardar_diminuto(path, textos):
    model, optimizer, *_ = _preparar(textos)
    return save_verdict_model(model, optimizer, CFG_PEQUENA, path)


def test_load_verdict_model_elige_el_modelo_o_lo_entrena(tmp_path, monkeypatch, textos, capsys):
    monkeypatch.setenv("LLM_MODELOS_DIR", str(tmp_path))
    monkeypatch.delenv("LLM_MODO_CLASE", raising=False)
    llamadas = []

    def entrenar_de_mentira(small=False, device=None, path=None):
        llamadas.append(small)
        return _guardar_diminuto(tmp_path / (CLASS_MODEL_NAME if small else VERDICT_MODEL_NAME), textos)

    monkeypatch.setattr(trainModelSimple, "train_verdict_model", entrenar_de_mentira)

    # Sin ningún modelo y sin modo clase: entrena el del cuaderno 2
    load_verdict_model(device="cpu")
    assert llamadas == [False] and (tmp_path / VERDICT_MODEL_NAME).is_file()
    # Ya existe: lo carga sin entrenar, aunque esté el modo clase, y sin avisar de nada
    monkeypatch.setenv("LLM_MODO_CLASE", "1")
    capsys.readouterr()
    load_verdict_model(device="cpu")
    assert llamadas == [False] and capsys.readouterr().out == ""
    # Sin el del cuaderno 2 y en modo clase: entrena el pequeño una vez, lo dice, y luego lo reutiliza
    (tmp_path / VERDICT_MODEL_NAME).unlink()
    load_verdict_model(device="cpu")
    load_verdict_model(device="cpu")
    assert llamadas == [False, True]
    assert capsys.readouterr().out.count("Modo clase: uso el GPT pequeño de gpt_verdict_clase.pth") == 2
    # LLM_MODO_CLASE=0 no activa el modo clase
    monkeypatch.setenv("LLM_MODO_CLASE", "0")
    load_verdict_model(device="cpu")
    assert llamadas == [False, True, False]


def test_train_verdict_model_sigue_los_pasos_del_cuaderno_2(tmp_path, monkeypatch, capsys):
    """Con una configuración diminuta, train_verdict_model da los mismos pesos que los pasos del cuaderno 2 a mano."""
    diminuta = {**CFG_PEQUENA, "context_length": 256}
    monkeypatch.setattr(trainModelSimple, "CLASS_CONFIG", diminuta)
    ruta = train_verdict_model(small=True, device="cpu", path=tmp_path / "clase.pth")
    salida = capsys.readouterr().out
    assert "Modo clase (LLM_MODO_CLASE=1)" in salida and "Entrenado en" in salida and str(ruta) in salida

    # Los pasos del cuaderno 2, escritos aquí otra vez: datos, semilla, modelo, optimizador y train_model_simple
    tokenizer = get_tokenizer()
    text_data = load_the_verdict()
    split_idx = int(0.90 * len(text_data))
    torch.manual_seed(123)
    train_loader = create_dataloader_v1(text_data[:split_idx], batch_size=2, max_length=256, stride=256,
                                        drop_last=True, shuffle=True, num_workers=0)
    val_loader = create_dataloader_v1(text_data[split_idx:], batch_size=2, max_length=256, stride=256,
                                      drop_last=False, shuffle=False, num_workers=0)
    torch.manual_seed(123)
    model = GPTModel(diminuta)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.0004, weight_decay=0.1)
    train_model_simple(model, train_loader, val_loader, optimizer, "cpu", num_epochs=10, eval_freq=5, eval_iter=5,
                       start_context="Every effort moves you", tokenizer=tokenizer)
    capsys.readouterr()

    checkpoint = torch.load(ruta, weights_only=True)
    assert checkpoint["config"] == diminuta
    assert checkpoint["optimizer_state_dict"]["state"][0]["step"].item() == 90  # 10 épocas × 9 lotes
    for nombre, tensor in model.state_dict().items():
        assert torch.equal(checkpoint["model_state_dict"][nombre], tensor), nombre
