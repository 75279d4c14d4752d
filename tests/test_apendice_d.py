"""El entrenamiento del apéndice D del cuaderno 7 da los números del código de referencia del libro.

Los valores de referencia se obtuvieron una vez, fuera del cuaderno, con el paquete del autor del libro,
`llms-from-scratch` 1.0.19 (`llms_from_scratch.appendix_d.train_model`, en su versión corregida, que recorta desde
`global_step >= warmup_steps`, y `llms_from_scratch.ch04.GPTModel`), en la CPU del curso (torch 2.13.0+cpu, un hilo:
OMP_NUM_THREADS=1), con los ajustes del libro y del cuaderno:
- «The Verdict», reparto 90/10, ventanas de 256 tokens con stride 256 en lotes de 2 (`llms_from_scratch.ch02.GPTDatasetV1`
  con el tokenizador del curso, `get_tokenizer()`, que es el de GPT-2 sin red), `torch.manual_seed(123)` antes de los
  cargadores (el de entrenamiento baraja y descarta el último lote incompleto; el de validación, no);
- `torch.manual_seed(123)` antes de `GPTModel` con GPT_CONFIG_124M y context_length 256;
- AdamW(lr=0.001, weight_decay=0.1); n_epochs=15 (135 pasos), warmup_steps=int(0.2 * 135) = 27, initial_lr=1e-5,
  min_lr=1e-5, eval_freq=5, eval_iter=1, start_context «Every effort moves you».

nbval comprueba que las salidas nuevas del cuaderno coinciden con las guardadas (con la tolerancia de
tests/toleranciaNumerica.py); esta prueba comprueba que las guardadas coinciden con las de la referencia. Así se
sostiene la cadena: salida nueva == guardada == referencia.
"""

import json
import re
from pathlib import Path

import pytest

CUADERNO = Path(__file__).resolve().parent.parent / "seccion05" / "7_entrenamiento_avanzado.ipynb"

# Las pérdidas que imprimió appendix_d.train_model en cada evaluación (pasos 0, 5, ..., 130), con 3 decimales
PERDIDAS_ENTRENAMIENTO = [
    "10.934", "9.151", "7.949", "6.362", "5.851", "5.751", "4.617", "4.278", "3.189", "2.484", "2.633", "2.192",
    "0.819", "0.733", "0.792", "0.294", "0.225", "0.232", "0.138", "0.093", "0.057", "0.071", "0.039", "0.032",
    "0.032", "0.035", "0.035",
]
PERDIDAS_VALIDACION = [
    "10.939", "9.461", "8.184", "6.876", "6.607", "6.634", "6.713", "6.642", "6.322", "6.262", "6.263", "6.201",
    "6.341", "6.328", "6.390", "6.508", "6.647", "6.744", "6.825", "6.828", "6.882", "6.916", "6.937", "6.937",
    "6.932", "6.935", "6.937",
]
# Las tasas de aprendizaje que devolvió (track_lrs), en los pasos que imprime el cuaderno
PASOS_TOTALES, PASOS_CALENTAMIENTO = 135, 27
TASAS = {0: 1e-05, 26: 0.0009633333333333333, 27: 0.001, 134: 1.0209409709310705e-05}
# La muestra de texto de la última época
ULTIMA_MUESTRA = 'Every effort moves you?"  "Yes--quite insensible to the irony. She wanted him vindicated--and by me!"  He laughed again, and threw back his head to look up at the sketch of the donkey. "There were days when I'


def _cuaderno():
    return json.loads(CUADERNO.read_text(encoding="utf-8"))


def _salida(celda) -> str:
    partes = []
    for salida in celda.get("outputs", []):
        if salida.get("output_type") == "stream":
            partes.append("".join(salida["text"]))
        elif "text/plain" in salida.get("data", {}):
            partes.append("".join(salida["data"]["text/plain"]))
    return "".join(partes)


def _celda(contiene: str):
    celdas = [c for c in _cuaderno()["cells"] if c["cell_type"] == "code" and contiene in "".join(c["source"])]
    assert len(celdas) == 1, f"Se esperaba una sola celda de código con {contiene!r}; hay {len(celdas)}."
    return celdas[0]


@pytest.fixture(scope="module")
def entrenamiento():
    return _celda("grad_norms=grad_norms,")


def test_la_celda_usa_los_ajustes_del_libro(entrenamiento):
    fuente = "".join(entrenamiento["source"])
    for ajuste in ("n_epochs = 15", "peak_lr = 0.001", "warmup_steps = int(0.2 * total_steps)",
                   "torch.manual_seed(123)\nmodel = GPTModel(VERDICT_CONFIG)",
                   "torch.optim.AdamW(model.parameters(), lr=peak_lr, weight_decay=0.1)",
                   "eval_freq=5, eval_iter=1", 'start_context="Every effort moves you"', "initial_lr=1e-5, min_lr=1e-5"):
        assert ajuste in fuente, f"La celda del entrenamiento ya no tiene {ajuste!r}."


def test_las_perdidas_guardadas_son_las_de_la_referencia(entrenamiento):
    lineas = re.findall(r"Época (\d+)/15 \(paso (\d+)\): pérdida de entrenamiento (\d+\.\d+), de validación "
                        r"(\d+\.\d+)", _salida(entrenamiento))
    assert [int(paso) for _, paso, _, _ in lineas] == list(range(0, PASOS_TOTALES, 5))
    assert [int(epoca) for epoca, *_ in lineas] == [paso // 9 + 1 for paso in range(0, PASOS_TOTALES, 5)]
    assert [t for *_, t, _ in lineas] == PERDIDAS_ENTRENAMIENTO
    assert [v for *_, v in lineas] == PERDIDAS_VALIDACION


def test_la_muestra_final_es_la_de_la_referencia(entrenamiento):
    muestras = [lin for lin in _salida(entrenamiento).splitlines() if lin.startswith("Every effort moves you")]
    assert len(muestras) == 15
    assert muestras[-1] == ULTIMA_MUESTRA


def test_el_resumen_de_perdidas_es_el_de_la_referencia():
    salida = _salida(_celda("Mínimo de la pérdida de validación"))
    val = [float(v) for v in PERDIDAS_VALIDACION]
    mejor = min(range(len(val)), key=val.__getitem__)
    assert f"entrenamiento {PERDIDAS_ENTRENAMIENTO[0]}, validación {PERDIDAS_VALIDACION[0]}" in salida
    assert f"entrenamiento {PERDIDAS_ENTRENAMIENTO[-1]}, validación {PERDIDAS_VALIDACION[-1]}" in salida
    assert f"Mínimo de la pérdida de validación: {PERDIDAS_VALIDACION[mejor]}, en el paso {5 * mejor}" in salida


def test_las_tasas_guardadas_son_las_de_la_referencia():
    salida = _salida(_celda("Pasos recortados"))
    esperado = (f"Tasa: {TASAS[0]} en el paso 0, {TASAS[26]:.6f} en el 26, {TASAS[27]} (la máxima) en el 27 y "
                f"{TASAS[134]:.4e} en el último, el 134")
    assert esperado in salida


def test_las_tasas_del_modulo_son_las_de_la_referencia():
    from seccion05.trainModel import lr_at_step

    for paso, tasa in TASAS.items():
        assert lr_at_step(paso, PASOS_TOTALES, PASOS_CALENTAMIENTO, 0.001, 1e-5, 1e-5) == tasa
