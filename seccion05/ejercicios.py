"""Comprobaciones de los ejercicios de la sección 5 (preentrenar con texto sin etiquetar).

Cada función `comprobar_ejercicio_5_N` recibe tu respuesta, imprime «¡correcto!», «todavía sin resolver» (si la
respuesta sigue en None) o lo que falta, y devuelve True solo si la respuesta es correcta. Nunca lanza un error por
una respuesta equivocada, y no cambia el generador aleatorio del cuaderno: lo que sortea para comprobar lo sortea
aparte.

Los ejercicios 5.1 a 5.6 son los del capítulo 5 del libro, con sus números; del 5.7 en adelante son del curso. Los
enunciados están al final de cada cuaderno de seccion05/, y las soluciones, en seccion05/soluciones.ipynb.
"""

from __future__ import annotations

import math

import torch

from seccion02_TrabajarDatosTexto.comprobarEjercicio import (
    a_entero,
    a_numero,
    describir,
    describir_error,
    informar,
    miles,
)

# --- Datos de los enunciados -----------------------------------------------------------------------------------------

# Cuaderno 3: el vocabulario de juguete y los logits del siguiente token tras «every effort moves you»
VOCAB_JUGUETE = ["closer", "every", "effort", "forward", "inches", "moves", "pizza", "toward", "you"]
LOGITS_JUGUETE = torch.tensor([4.51, 0.89, -1.90, 6.75, 1.63, -1.62, -1.89, 6.28, 1.79])
TEMPERATURAS_5_1 = (1, 0.1, 5)  # las del apartado 3 del cuaderno 3

# Ejercicio 5.2: cuatro ajustes de `generate` entre los que elegir
OPCIONES_5_2 = {
    "A": {"temperature": 0.7, "top_k": 10},
    "B": {"temperature": 2.0, "top_k": None},
    "C": {"temperature": 1.0, "top_k": 50},
    "D": {"temperature": 5.0, "top_k": 1},
}

# Ejercicio 5.9: las pérdidas de validación de otro entrenamiento, medidas cada 4 pasos con 7 lotes por época
PERDIDAS_VALIDACION_5_9 = [10.12, 8.95, 7.80, 7.21, 6.90, 6.71, 6.64, 6.58, 6.61, 6.70, 6.83, 6.97, 7.08]
EVAL_FREQ_5_9 = 4
LOTES_POR_EPOCA_5_9 = 7

# Ejercicio 5.10: el GPT diminuto (entrena en segundos) y cómo se entrena
CFG_DIMINUTO = {
    "vocab_size": 50257,  # el vocabulario de GPT-2
    "context_length": 16,  # contexto muy corto
    "emb_dim": 32,  # embeddings diminutos
    "n_heads": 2,  # cabezas de atención (head_dim = 16)
    "n_layers": 2,  # bloques transformer
    "drop_rate": 0.0,  # sin dropout
    "qkv_bias": False,  # sin sesgo en consulta, clave y valor
}
EPOCAS_5_10, LOTES_POR_EPOCA_5_10, EVAL_FREQ_5_10 = 2, 36, 12  # lotes de 8 ventanas de 16 tokens
BRECHA_124M = 6.452 - 0.391  # la del cuaderno 2: validación menos entrenamiento al final

# Ejercicio 5.11: generar con el modelo entrenado a varias temperaturas
INICIO_5_11 = "Every effort moves you"
TEMPERATURAS_5_11 = (0.5, 1.0, 1.5, 2.0)
TOKENS_5_11, TOP_K_5_11, SEMILLA_5_11 = 15, 50, 123
RECITA_DESDE = 30  # caracteres seguidos copiados de «The Verdict» a partir de los cuales el modelo «recita»

# Ejercicios 5.4 y 5.12: el GPT mini del apartado 4 del cuaderno 4
CFG_MINI = {
    "vocab_size": 50257,  # el vocabulario de GPT-2
    "context_length": 32,  # contexto corto
    "emb_dim": 64,  # embeddings pequeños
    "n_heads": 4,
    "n_layers": 2,
    "drop_rate": 0.1,  # con dropout: consume números aleatorios
    "qkv_bias": False,
}

# Ejercicio 5.5: las pérdidas de GPT-2 124M en «The Verdict» que mide el libro (solución de su ejercicio 5.5)
PERDIDAS_GPT2_LIBRO = (3.7547, 3.5596)  # entrenamiento, validación
PERDIDAS_VERDICT = (0.298, 6.526)  # las del modelo del cuaderno 2, en el apartado 4 del cuaderno 5

# Ejercicio 5.13: la generación que se compara con y sin caché
INICIO_5_13, TOKENS_5_13 = "Every effort moves you", 20

# Ejercicio 5.14: la caché KV del GPT de 124M con contexto de 256 tokens
CFG_124M_256 = {"vocab_size": 50257, "context_length": 256, "emb_dim": 768, "n_heads": 12, "n_layers": 12,
                "drop_rate": 0.1, "qkv_bias": False}


# --- Ayudas ----------------------------------------------------------------------------------------------------------

def _cerca(a: float, b: float, rtol: float = 1e-4, atol: float = 1e-6) -> bool:
    return math.isclose(a, b, rel_tol=rtol, abs_tol=atol)


def _por_temperatura(respuesta, nombre: str, temperaturas) -> tuple[dict | None, str | None]:
    """Convierte un dict {temperatura: valor} o una lista en el orden de `temperaturas` en {temperatura: float}."""
    if isinstance(respuesta, dict):
        valores = {}
        for t in temperaturas:
            clave = next((k for k in respuesta if a_numero(k) is not None and _cerca(a_numero(k), t)), None)
            if clave is None:
                return None, f"A {nombre} le falta la temperatura {t}: necesita una entrada por cada una de {list(temperaturas)}."
            valores[t] = respuesta[clave]
    elif isinstance(respuesta, (list, tuple)) or (isinstance(respuesta, torch.Tensor) and respuesta.dim() == 1):
        if len(respuesta) != len(temperaturas):
            return None, (f"{nombre} tiene {len(respuesta)} valores; se esperaba uno por temperatura, en el orden "
                          f"{list(temperaturas)}.")
        valores = dict(zip(temperaturas, respuesta, strict=True))
    else:
        return None, (f"{nombre} debe ser un diccionario {{temperatura: valor}} (o una lista en el orden "
                      f"{list(temperaturas)}); es {describir(respuesta)}.")
    numeros = {}
    for t, v in valores.items():
        numero = a_numero(v)
        if numero is None:
            return None, f"El valor de {nombre} para T = {t} debe ser un número; es {describir(v)} ({v!r})."
        numeros[t] = numero
    return numeros, None


def _pasaje_mas_largo(generado: str, texto: str) -> str:
    """El trozo más largo de `generado` que aparece, letra por letra, en `texto` (el del apartado 5 del cuaderno 2)."""
    mejor = ""
    for i in range(len(generado)):
        j = i + len(mejor) + 1  # solo interesa si supera al mejor hasta ahora
        while j <= len(generado) and generado[i:j] in texto:
            mejor = generado[i:j]
            j += 1
    return mejor


_MODELO_DIMINUTO = None


def _modelo_diminuto():
    """Un GPTModel diminuto y sin entrenar (semilla 123) para probar argumentos de `generate`; se crea una vez."""
    global _MODELO_DIMINUTO
    if _MODELO_DIMINUTO is None:
        from seccion04_ImplementacionGPTGeneracionTexto.gptModel import GPTModel

        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(123)
            _MODELO_DIMINUTO = GPTModel(CFG_DIMINUTO).eval()
    return _MODELO_DIMINUTO


# --- Cuaderno 1 ------------------------------------------------------------------------------------------------------

def comprobar_ejercicio_5_7(perplejidad_val, val_loss, train_loss=None) -> bool:
    """Ejercicio 5.7: `perplejidad_val` debe ser exp(`val_loss`), la perplejidad del cargador de validación."""
    nombre = "Ejercicio 5.7"
    if perplejidad_val is None:
        return informar(nombre, None)
    p, v = a_numero(perplejidad_val), a_numero(val_loss)
    if v is None:
        return informar(nombre, [f"val_loss debería ser la pérdida de validación del apartado 3; es {describir(val_loss)}."])
    if p is None:
        return informar(nombre, [f"perplejidad_val debe ser un número; es {describir(perplejidad_val)} ({perplejidad_val!r})."])
    if _cerca(p, math.exp(v)):
        return informar(nombre, [])
    t = a_numero(train_loss)
    if t is not None and _cerca(p, math.exp(t)):
        problema = (f"perplejidad_val = {p:.1f} es exp(train_loss), la perplejidad del cargador de entrenamiento; el "
                    "ejercicio pide la de validación.")
    elif _cerca(p, v):
        problema = f"perplejidad_val = {p:.5f} es la propia pérdida de validación: la perplejidad es exp(pérdida)."
    elif v > 0 and _cerca(p, math.log(v)):
        problema = f"perplejidad_val = {p:.5f} es ln(val_loss); la perplejidad es la exponencial, no el logaritmo."
    elif _cerca(p, 2 ** v):
        problema = (f"perplejidad_val = {p:.1f} es 2 elevado a la pérdida; la entropía cruzada del curso usa el "
                    "logaritmo natural, así que su perplejidad es e elevado a la pérdida: math.exp(val_loss).")
    elif _cerca(p, math.exp(-v)):
        problema = f"perplejidad_val = {p:.3g} es exp(-val_loss): sobra el signo menos."
    else:
        problema = f"perplejidad_val = {p:.6g}, pero exp(val_loss) = {math.exp(v):.6g}."
    return informar(nombre, [problema])


def comprobar_ejercicio_5_8(model, ids, inputs, targets, loss_sin_desplazar=None) -> bool:
    """Ejercicio 5.8: `inputs` y `targets` (1, n - 1) deben salir de `ids` (1, n) con el desplazamiento de una
    posición, y `loss_sin_desplazar` ser la entropía cruzada de `model` si se usan las entradas como objetivos."""
    nombre = "Ejercicio 5.8"
    if inputs is None and targets is None and loss_sin_desplazar is None:
        return informar(nombre, None)
    if not isinstance(ids, torch.Tensor) or ids.dim() != 2 or ids.shape[0] != 1 or ids.shape[1] < 2:
        return informar(nombre, [f"ids debería ser el tensor (1, n) del enunciado; es {describir(ids)}."])
    problemas = []
    esperado_in, esperado_tg = ids[:, :-1], ids[:, 1:]
    forma = tuple(esperado_in.shape)
    for etiqueta, valor in (("inputs", inputs), ("targets", targets)):
        if valor is None:
            problemas.append(f"{etiqueta} sigue valiendo None.")
        elif not isinstance(valor, torch.Tensor):
            problemas.append(f"{etiqueta} debe ser un tensor de ids de forma {forma}; es {describir(valor)}.")
        elif tuple(valor.shape) != forma:
            problemas.append(
                f"{etiqueta} tiene forma {tuple(valor.shape)}; se esperaba {forma}: con {ids.shape[1]} tokens hay "
                f"{ids.shape[1] - 1} parejas (entrada, siguiente token). Quita un token por un extremo distinto en "
                "cada uno."
            )
    if problemas:
        return informar(nombre, problemas)
    if torch.equal(inputs, targets):
        problemas.append("targets es igual que inputs: falta el desplazamiento. El objetivo de cada posición es el token "
                         "siguiente.")
    elif torch.equal(inputs, esperado_tg) and torch.equal(targets, esperado_in):
        problemas.append("inputs y targets están cambiados: el objetivo es el token que viene después, así que targets "
                         "empieza un token más tarde (ids[:, 1:]) e inputs termina un token antes (ids[:, :-1]).")
    else:
        if not torch.equal(inputs, esperado_in):
            problemas.append("inputs no son los primeros n - 1 tokens de ids (ids[:, :-1]).")
        if not torch.equal(targets, esperado_tg):
            problemas.append("targets no son los tokens de ids a partir del segundo (ids[:, 1:]).")
    if problemas:
        return informar(nombre, problemas)
    if loss_sin_desplazar is None:
        return informar(nombre, ["inputs y targets están bien; falta loss_sin_desplazar, la pérdida con targets = inputs."])
    perdida = a_numero(loss_sin_desplazar)
    if perdida is None:
        return informar(nombre, [f"loss_sin_desplazar debe ser un número; es {describir(loss_sin_desplazar)}."])
    try:
        with torch.no_grad(), torch.random.fork_rng(devices=[]):
            dispositivo = next(model.parameters()).device
            logits = model(esperado_in.to(dispositivo)).flatten(0, 1)
            sin_desplazar = torch.nn.functional.cross_entropy(logits, esperado_in.flatten().to(dispositivo)).item()
            bien = torch.nn.functional.cross_entropy(logits, esperado_tg.flatten().to(dispositivo)).item()
    except Exception as error:  # el modelo que se pasa puede no ser un GPTModel
        return informar(nombre, [describir_error("Calcular la pérdida con model", error)])
    if _cerca(perdida, sin_desplazar, rtol=1e-3):
        return informar(nombre, [])
    if _cerca(perdida, bien, rtol=1e-3):
        problema = (f"loss_sin_desplazar = {perdida:.4f} es la pérdida con los objetivos bien desplazados; el ejercicio "
                    "pide la de calc_loss_batch(inputs, inputs, ...).")
    else:
        problema = f"loss_sin_desplazar = {perdida:.4f}, pero la pérdida con targets = inputs es {sin_desplazar:.4f}."
    if model.training:
        problema += " (El modelo está en modo entrenamiento: con el dropout activo, cada pasada da otra pérdida. Usa model.eval().)"
    return informar(nombre, [problema])


# --- Cuaderno 2 ------------------------------------------------------------------------------------------------------

def comprobar_ejercicio_5_9(paso_minimo, epoca_minima) -> bool:
    """Ejercicio 5.9: el paso y la época (contada desde 1) de la menor pérdida de `PERDIDAS_VALIDACION_5_9`."""
    nombre = "Ejercicio 5.9"
    if paso_minimo is None and epoca_minima is None:
        return informar(nombre, None)
    indice = min(range(len(PERDIDAS_VALIDACION_5_9)), key=PERDIDAS_VALIDACION_5_9.__getitem__)
    paso = indice * EVAL_FREQ_5_9
    epoca = paso // LOTES_POR_EPOCA_5_9 + 1
    problemas = []
    p = a_entero(paso_minimo)
    if paso_minimo is None:
        problemas.append("paso_minimo sigue valiendo None.")
    elif p is None:
        problemas.append(f"paso_minimo debe ser un número entero; es {describir(paso_minimo)} ({paso_minimo!r}).")
    elif p == indice:
        problemas.append(f"paso_minimo = {p} es la posición del mínimo en la lista, no el paso: entre dos evaluaciones "
                         f"hay {EVAL_FREQ_5_9} pasos.")
    elif p == (indice + 1) * EVAL_FREQ_5_9:
        problemas.append(f"paso_minimo = {p} cuenta una evaluación de más: la primera evaluación es la del paso 0.")
    elif p == max(range(len(PERDIDAS_VALIDACION_5_9)), key=PERDIDAS_VALIDACION_5_9.__getitem__) * EVAL_FREQ_5_9:
        problemas.append(f"paso_minimo = {p} es el paso de la pérdida más alta; busca la más baja.")
    elif p != paso:
        problemas.append(f"paso_minimo = {p} no es el paso de la menor pérdida de validación.")
    e = a_entero(epoca_minima)
    if epoca_minima is None:
        problemas.append("epoca_minima sigue valiendo None.")
    elif e is None:
        problemas.append(f"epoca_minima debe ser un número entero; es {describir(epoca_minima)} ({epoca_minima!r}).")
    elif e == epoca - 1 and p == paso:
        problemas.append(f"epoca_minima = {e} cuenta las épocas desde 0; train_model_simple las imprime desde 1 "
                         "(«Época 1/10»).")
    elif e != epoca and p == paso:
        problemas.append(f"epoca_minima = {e} no es la época del paso {paso}: cada época tiene {LOTES_POR_EPOCA_5_9} "
                         "pasos, del 0 al 6 la primera.")
    elif e != epoca:
        problemas.append(f"epoca_minima = {e} no es la época de la menor pérdida de validación.")
    return informar(nombre, problemas)


def _lista_de_perdidas(x, etiqueta: str, problemas: list[str]):
    if x is None:
        problemas.append(f"{etiqueta} sigue valiendo None.")
        return None
    if not isinstance(x, (list, tuple)) or not all(a_numero(v) is not None for v in x):
        problemas.append(f"{etiqueta} debe ser la lista de pérdidas que devuelve train_model_simple; es {describir(x)}.")
        return None
    return [a_numero(v) for v in x]


def comprobar_ejercicio_5_10(train_losses, val_losses, brecha) -> bool:
    """Ejercicio 5.10: las pérdidas del GPT diminuto (2 épocas, una evaluación cada 12 pasos) y su brecha final,
    validación menos entrenamiento."""
    nombre = "Ejercicio 5.10"
    if train_losses is None and val_losses is None and brecha is None:
        return informar(nombre, None)
    problemas = []
    train = _lista_de_perdidas(train_losses, "train_losses", problemas)
    val = _lista_de_perdidas(val_losses, "val_losses", problemas)
    if problemas:
        return informar(nombre, problemas)
    evaluaciones = len(range(0, EPOCAS_5_10 * LOTES_POR_EPOCA_5_10, EVAL_FREQ_5_10))
    for etiqueta, lista in (("train_losses", train), ("val_losses", val)):
        if len(lista) == 18:
            problemas.append(f"{etiqueta} tiene las 18 evaluaciones del GPT de 124M del apartado 3; el ejercicio pide "
                             "las del GPT diminuto.")
        elif len(lista) != evaluaciones:
            problemas.append(
                f"{etiqueta} tiene {len(lista)} pérdidas; se esperaban {evaluaciones}: {EPOCAS_5_10} épocas de "
                f"{LOTES_POR_EPOCA_5_10} pasos con una evaluación cada {EVAL_FREQ_5_10} (pasos 0, 12, ..., 60)."
            )
    if problemas:
        return informar(nombre, problemas)
    if any(not math.isfinite(v) or v <= 0 or v > 12 for v in train + val):
        return informar(nombre, ["Hay pérdidas imposibles (negativas, nan o mayores que 12): vuelve a entrenar."])
    if not train[-1] < train[0]:
        problemas.append(f"La pérdida de entrenamiento no baja ({train[0]:.3f} → {train[-1]:.3f}): ¿has pasado el "
                         "optimizador del modelo que entrenas?")
    b = a_numero(brecha)
    esperada = val[-1] - train[-1]
    if brecha is None:
        problemas.append("brecha sigue valiendo None.")
    elif b is None:
        problemas.append(f"brecha debe ser un número; es {describir(brecha)}.")
    elif _cerca(b, -esperada, rtol=1e-6):
        problemas.append(f"brecha = {b:.3f} tiene el signo cambiado: es la pérdida de validación menos la de "
                         "entrenamiento.")
    elif not _cerca(b, esperada, rtol=1e-6):
        problemas.append(f"brecha = {b:.3f}, pero la última pérdida de validación menos la última de entrenamiento es "
                         f"{esperada:.3f}.")
    return informar(nombre, problemas)


# --- Cuaderno 3 ------------------------------------------------------------------------------------------------------

def _conteos(probas: torch.Tensor, num_samples: int = 1_000) -> torch.Tensor:
    """Los conteos de `sample_counts` del cuaderno 3 (semilla 123), sin tocar el generador del cuaderno."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(123)
        muestra = [torch.multinomial(probas, num_samples=1).item() for _ in range(num_samples)]
    return torch.bincount(torch.tensor(muestra), minlength=len(probas))


def comprobar_ejercicio_5_1(veces_pizza, prob_pizza) -> bool:
    """Ejercicio 5.1: cuántas veces sale «pizza» en 1 000 sorteos (semilla 123) y con qué probabilidad, con cada
    temperatura de `TEMPERATURAS_5_1`."""
    nombre = "Ejercicio 5.1"
    if veces_pizza is None and prob_pizza is None:
        return informar(nombre, None)
    i_pizza = VOCAB_JUGUETE.index("pizza")
    probas = {t: torch.softmax(LOGITS_JUGUETE / t, dim=0) for t in TEMPERATURAS_5_1}
    problemas = []
    if veces_pizza is None:
        problemas.append("veces_pizza sigue valiendo None.")
    else:
        veces, problema = _por_temperatura(veces_pizza, "veces_pizza", TEMPERATURAS_5_1)
        if problema:
            problemas.append(problema)
        else:
            conteos = {t: _conteos(probas[t]) for t in TEMPERATURAS_5_1}
            for t in TEMPERATURAS_5_1:
                esperado = int(conteos[t][i_pizza])
                if veces[t] == esperado:
                    continue
                otra = next((VOCAB_JUGUETE[i] for i in range(len(VOCAB_JUGUETE)) if veces[t] == int(conteos[t][i])
                             and veces[t] > 0), None)
                if 0 < veces[t] < 1 and _cerca(veces[t] * 1000, esperado, atol=0.5):
                    problemas.append(f"veces_pizza[{t}] = {veces[t]} es una fracción; el ejercicio pide cuántas veces "
                                     "de 1 000.")
                elif otra is not None:
                    problemas.append(f"veces_pizza[{t}] = {veces[t]:g} son las veces de «{otra}»; «pizza» está en la "
                                     f"posición {i_pizza} del vocabulario.")
                else:
                    problemas.append(f"veces_pizza[{t}] = {veces[t]:g}, pero «pizza» sale {esperado} veces de 1 000 "
                                     "con sample_counts (semilla 123) a esa temperatura.")
    if prob_pizza is None:
        problemas.append("prob_pizza sigue valiendo None.")
    else:
        probs, problema = _por_temperatura(prob_pizza, "prob_pizza", TEMPERATURAS_5_1)
        if problema:
            problemas.append(problema)
        else:
            for t in TEMPERATURAS_5_1:
                esperada = float(probas[t][i_pizza])
                if _cerca(probs[t], esperada, rtol=1e-3, atol=1e-9):
                    continue
                multiplicada = float(torch.softmax(LOGITS_JUGUETE * t, dim=0)[i_pizza])
                if t != 1 and _cerca(probs[t], multiplicada, rtol=1e-3, atol=1e-9):
                    problemas.append(f"prob_pizza[{t}] = {probs[t]:.4g} sale de multiplicar los logits por la "
                                     "temperatura; hay que dividirlos.")
                elif _cerca(probs[t], float(probas[1][i_pizza]), rtol=1e-3, atol=1e-9):
                    problemas.append(f"prob_pizza[{t}] = {probs[t]:.4g} es la probabilidad con T = 1: aplica la "
                                     f"temperatura {t}.")
                else:
                    problemas.append(f"prob_pizza[{t}] = {probs[t]:.4g}, pero la softmax de los logits divididos por "
                                     f"{t} da {esperada:.4g} a «pizza».")
    return informar(nombre, problemas)


def comprobar_ejercicio_5_2(mas_predecible, mas_variado) -> bool:
    """Ejercicio 5.2: de los ajustes de `OPCIONES_5_2`, el que da el texto más predecible y el más variado."""
    nombre = "Ejercicio 5.2"
    if mas_predecible is None and mas_variado is None:
        return informar(nombre, None)
    problemas = []
    explicaciones_predecible = {
        "A": "A (T = 0.7, top_k = 10) afila la distribución, pero sigue sorteando entre 10 tokens: con otra semilla "
             "sale otro texto. Busca el ajuste que no deja nada al azar.",
        "B": "B (T = 2.0 sin top-k) es el más disparatado de los cuatro: aplana la distribución sobre todo el "
             "vocabulario.",
        "C": "C (T = 1.0, top_k = 50) muestrea de la distribución original entre 50 candidatos: varía de una semilla a "
             "otra.",
    }
    explicaciones_variado = {
        "A": "A (T = 0.7, top_k = 10) es de los más prudentes: temperatura baja y solo 10 candidatos.",
        "C": "C (T = 1.0, top_k = 50) varía, pero menos que un ajuste con más temperatura y sin límite de candidatos.",
        "D": "D tiene T = 5.0, pero con top_k = 1 solo queda un candidato en cada paso: la temperatura no cambia nada y "
             "el texto es el voraz.",
    }
    for valor, etiqueta, correcta, explicaciones in (
        (mas_predecible, "mas_predecible", "D", explicaciones_predecible),
        (mas_variado, "mas_variado", "B", explicaciones_variado),
    ):
        if valor is None:
            problemas.append(f"{etiqueta} sigue valiendo None.")
        elif not isinstance(valor, str) or valor.strip().upper() not in OPCIONES_5_2:
            problemas.append(f"{etiqueta} debe ser una de las letras {', '.join(OPCIONES_5_2)}; es {valor!r}.")
        elif valor.strip().upper() != correcta:
            problemas.append(f"{etiqueta} = {valor!r}: {explicaciones[valor.strip().upper()]}")
    return informar(nombre, problemas)


def _es_determinista(ajustes: dict) -> bool:
    return ajustes.get("temperature", 0.0) == 0 or ajustes.get("top_k") == 1


def comprobar_ejercicio_5_3(formas_deterministas) -> bool:
    """Ejercicio 5.3: una lista de diccionarios de argumentos de `generate` (`temperature`, `top_k`), cada uno
    determinista, que incluya las dos formas: sin muestrear (`temperature=0`) y muestreando con `top_k=1`."""
    nombre = "Ejercicio 5.3"
    if formas_deterministas is None:
        return informar(nombre, None)
    if isinstance(formas_deterministas, dict):
        formas_deterministas = [formas_deterministas]
    if not isinstance(formas_deterministas, (list, tuple)) or not formas_deterministas:
        return informar(nombre, [f"formas_deterministas debe ser una lista de diccionarios de argumentos de generate; "
                                 f"es {describir(formas_deterministas)}."])
    from seccion04_ImplementacionGPTGeneracionTexto.checkGenerationArgs import check_generation_args

    modelo, idx = _modelo_diminuto(), torch.tensor([[6109, 3626, 6100, 345]])
    problemas = []
    for ajustes in formas_deterministas:
        if not isinstance(ajustes, dict):
            problemas.append(f"Cada forma debe ser un diccionario como {{'temperature': 0.0}}; hay {describir(ajustes)}.")
            continue
        sobran = sorted(set(ajustes) - {"temperature", "top_k"})
        if sobran:
            problemas.append(f"{ajustes}: solo cuentan temperature y top_k; sobra {', '.join(map(repr, sobran))}.")
            continue
        try:
            check_generation_args(modelo, idx, 1, None, ajustes.get("temperature", 0.0), ajustes.get("top_k"), None)
        except Exception as error:  # un argumento imposible: generate no lo acepta
            problemas.append(describir_error(f"generate(..., **{ajustes})", error))
            continue
        if not _es_determinista(ajustes):
            t, k = ajustes.get("temperature", 0.0), ajustes.get("top_k")
            entre = "todo el vocabulario" if k is None else f"{k} tokens"
            problemas.append(f"{ajustes} sigue sorteando entre {entre} con T = {t}: otra semilla da otro texto "
                             "(aunque con una temperatura muy baja casi siempre salga el voraz).")
    if problemas:
        return informar(nombre, problemas)
    sin_muestrear = any(a.get("temperature", 0.0) == 0 for a in formas_deterministas)
    con_top1 = any(a.get("temperature", 0.0) > 0 and a.get("top_k") == 1 for a in formas_deterministas)
    if not sin_muestrear:
        problemas.append("Falta la forma más directa: no muestrear nada (temperature=0.0, la decodificación voraz).")
    if not con_top1:
        problemas.append("Falta la otra forma: muestrear (temperature > 0) pero dejar un único candidato en cada paso.")
    return informar(nombre, problemas)


def comprobar_ejercicio_5_11(model, temperatura_sin_recitar) -> bool:
    """Ejercicio 5.11: la primera temperatura de `TEMPERATURAS_5_11` con la que el modelo entrenado, con top-k 50 y
    la semilla 123, escribe 15 tokens sin copiar de «The Verdict» ningún trozo de 30 caracteres o más."""
    nombre = "Ejercicio 5.11"
    if temperatura_sin_recitar is None:
        return informar(nombre, None)
    t = a_numero(temperatura_sin_recitar)
    if t is None or not any(_cerca(t, x) for x in TEMPERATURAS_5_11):
        return informar(nombre, [f"temperatura_sin_recitar debe ser una de las temperaturas {list(TEMPERATURAS_5_11)}; "
                                 f"es {temperatura_sin_recitar!r}."])
    from seccion02_TrabajarDatosTexto.theVerdict import load_the_verdict
    from seccion02_TrabajarDatosTexto.tokenizerGPT2 import get_tokenizer
    from seccion05.generate import generate

    try:
        tokenizer, texto = get_tokenizer(), load_the_verdict()
        dispositivo = next(model.parameters()).device
        idx = torch.tensor([tokenizer.encode(INICIO_5_11)], device=dispositivo)
        copiados = {}
        with torch.random.fork_rng(devices=[]):
            for temperatura in TEMPERATURAS_5_11:
                torch.manual_seed(SEMILLA_5_11)
                ids = generate(model, idx, max_new_tokens=TOKENS_5_11, context_size=None, temperature=temperatura,
                               top_k=TOP_K_5_11)
                generado = tokenizer.decode(ids[0, idx.shape[1]:].tolist())
                copiados[temperatura] = len(_pasaje_mas_largo(generado, texto))
    except Exception as error:  # el modelo que se pasa puede no ser el entrenado
        return informar(nombre, [describir_error("Generar con model", error)])
    primera = next((x for x in TEMPERATURAS_5_11 if copiados[x] < RECITA_DESDE), None)
    if primera is not None and _cerca(t, primera):
        return informar(nombre, [])
    elegida = next(x for x in TEMPERATURAS_5_11 if _cerca(t, x))
    if copiados[elegida] >= RECITA_DESDE:
        problema = (f"Con T = {elegida}, el modelo todavía copia un trozo de {copiados[elegida]} caracteres seguidos de "
                    f"«The Verdict» (se considera que recita a partir de {RECITA_DESDE}).")
    elif primera is not None:
        problema = (f"Con T = {elegida} ya no recita, pero tampoco con T = {primera}, que es menor: busca la primera "
                    "temperatura de la lista que deja de recitar.")
    else:
        problema = "Con este modelo, ninguna de las temperaturas deja de recitar."
    return informar(nombre, [problema])


# --- Cuaderno 4 ------------------------------------------------------------------------------------------------------

def _entrenar_mini(num_epochs: int):
    """El GPT mini del apartado 4 del cuaderno 4 entrenado `num_epochs` épocas sin pausas (semilla 123)."""
    from seccion02_TrabajarDatosTexto.dataloader_v1 import create_dataloader_v1
    from seccion02_TrabajarDatosTexto.theVerdict import load_the_verdict
    from seccion04_ImplementacionGPTGeneracionTexto.gptModel import GPTModel
    from seccion05.calcLoss import calc_loss_batch

    loader = create_dataloader_v1(load_the_verdict()[:3000], batch_size=4, max_length=32, stride=32, shuffle=True)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(123)
        modelo = GPTModel(CFG_MINI)
        optimizador = torch.optim.AdamW(modelo.parameters(), lr=0.0004, weight_decay=0.1)
        modelo.train()
        for _ in range(num_epochs):
            for entradas, objetivos in loader:
                optimizador.zero_grad()
                calc_loss_batch(entradas, objetivos, modelo, "cpu").backward()
                optimizador.step()
    return modelo


def _pasos_adamw(optimizador):
    try:
        estado = optimizador.state_dict()["state"]
        return int(estado[0]["step"]) if estado else 0
    except Exception:  # no es un optimizador de PyTorch
        return None


def comprobar_ejercicio_5_4(modelo, optimizador) -> bool:
    """Ejercicio 5.4: `modelo` y `optimizador` deben ser el GPT mini reanudado desde el punto de control de la
    época 2 y entrenado una época más: los mismos pesos, bit a bit, que 3 épocas sin pausa."""
    nombre = "Ejercicio 5.4"
    if modelo is None and optimizador is None:
        return informar(nombre, None)
    if modelo is None or optimizador is None:
        return informar(nombre, ["Hacen falta los dos: el modelo reanudado y su optimizador."])
    pasos = _pasos_adamw(optimizador)
    if pasos is None:
        return informar(nombre, [f"optimizador debería ser el AdamW del modelo; es {describir(optimizador)}."])
    lotes = 5  # los del mini_loader del cuaderno
    if pasos != 3 * lotes:
        if pasos == lotes:
            problema = (f"AdamW solo ha dado {pasos} pasos: el optimizador empezó de cero. Cárgalo también del punto de "
                        "control (load_checkpoint(ruta, modelo, optimizador, ...)) para que siga contando desde el 10.")
        elif pasos == 2 * lotes:
            problema = f"AdamW lleva {pasos} pasos, los del punto de control: falta entrenar la época más."
        elif pasos == 0:
            problema = "AdamW no ha dado ningún paso: carga el punto de control y entrena una época."
        else:
            problema = f"AdamW lleva {pasos} pasos; tras 2 épocas guardadas y 1 más, deberían ser {3 * lotes}."
        return informar(nombre, [problema])
    try:
        referencia = _entrenar_mini(3).state_dict()
        estado = modelo.state_dict()
        iguales = estado.keys() == referencia.keys() and all(torch.equal(estado[k].cpu(), referencia[k]) for k in estado)
    except Exception as error:  # el modelo que se pasa puede no ser un GPTModel
        return informar(nombre, [describir_error("Comparar los pesos de modelo", error)])
    if not iguales:
        return informar(nombre, [
            "AdamW lleva los 15 pasos, pero los pesos no son los de 3 épocas sin pausa. ¿Restauraste el estado "
            "aleatorio (restore_rng_state=True) después de crear el modelo y el optimizador? Sin él, el dropout y el "
            "barajado de la tercera época son otros."
        ])
    return informar(nombre, [])


def _parametros_gpt(cfg: dict, cabeza_aparte: bool = True) -> int:
    """Parámetros entrenables de GPTModel(cfg) contados con la fórmula, sin crear el modelo."""
    v, c, e, n = cfg["vocab_size"], cfg["context_length"], cfg["emb_dim"], cfg["n_layers"]
    sesgo_qkv = 3 * e if cfg["qkv_bias"] else 0
    por_bloque = (3 * e * e + sesgo_qkv) + (e * e + e) + (e * 4 * e + 4 * e) + (4 * e * e + e) + 4 * e
    return v * e + c * e + n * por_bloque + 2 * e + (v * e if cabeza_aparte else 0)


def comprobar_ejercicio_5_12(num_parametros, num_numeros_adamw) -> bool:
    """Ejercicio 5.12: parámetros entrenables de GPTModel(CFG_MINI) y números que guarda AdamW para ellos
    (`exp_avg` y `exp_avg_sq`, sin los contadores `step`)."""
    nombre = "Ejercicio 5.12"
    if num_parametros is None and num_numeros_adamw is None:
        return informar(nombre, None)
    parametros = _parametros_gpt(CFG_MINI)
    mascaras = CFG_MINI["n_layers"] * CFG_MINI["context_length"] ** 2
    problemas = []
    p = a_entero(num_parametros)
    if num_parametros is None:
        problemas.append("num_parametros sigue valiendo None.")
    elif p is None:
        problemas.append(f"num_parametros debe ser un número entero; es {describir(num_parametros)} ({num_parametros!r}).")
    elif p == parametros + mascaras:
        problemas.append(f"num_parametros = {miles(p)} incluye los {miles(mascaras)} números de las máscaras causales "
                         "(2 bloques × 32 × 32): están en el state_dict, pero son búferes, no parámetros.")
    elif p == parametros - CFG_MINI["vocab_size"] * CFG_MINI["emb_dim"]:
        problemas.append(f"num_parametros = {miles(p)} no cuenta la cabeza de salida: GPTModel tiene una propia, "
                         "aparte del embedding de tokens.")
    elif p != parametros:
        problemas.append(f"num_parametros = {miles(p)} no es el número de parámetros entrenables de GPTModel(CFG_MINI).")
    a = a_entero(num_numeros_adamw)
    if num_numeros_adamw is None:
        problemas.append("num_numeros_adamw sigue valiendo None.")
    elif a is None:
        problemas.append(f"num_numeros_adamw debe ser un número entero; es {describir(num_numeros_adamw)}.")
    elif a == parametros:
        problemas.append(f"num_numeros_adamw = {miles(a)} es un número por parámetro; AdamW guarda dos (exp_avg y "
                         "exp_avg_sq).")
    elif a == 3 * parametros:
        problemas.append(f"num_numeros_adamw = {miles(a)} incluye los pesos del modelo: cuenta solo lo que añade "
                         "AdamW.")
    elif a != 2 * parametros:
        problemas.append(f"num_numeros_adamw = {miles(a)} no es lo que guarda AdamW: exp_avg y exp_avg_sq tienen, cada "
                         "uno, la forma de su parámetro.")
    return informar(nombre, problemas)


# --- Cuaderno 5 ------------------------------------------------------------------------------------------------------

_SIN_PESOS = ("  Este ejercicio necesita los pesos de GPT-2 124M, que no están en la carpeta de modelos. Para tenerlos, "
              "pon DESCARGAR = True en el apartado 2 (548 MB) o copia allí el archivo model.safetensors.")


def comprobar_ejercicio_5_5(gpt2, perdidas_gpt2, perplejidad_gpt2) -> bool:
    """Ejercicio 5.5: `perdidas_gpt2` = (entrenamiento, validación) de GPT-2 124M con los cargadores de «The Verdict»
    y `perplejidad_gpt2`, la perplejidad de validación. Se comparan con las cifras del libro (a ±0.02). Si `gpt2` es
    None (no están los pesos), además dice qué falta y cómo conseguirlo."""
    nombre = "Ejercicio 5.5"
    if perdidas_gpt2 is None and perplejidad_gpt2 is None:
        resultado = informar(nombre, None)
        if gpt2 is None:
            print(_SIN_PESOS)
        return resultado
    problemas = []
    if perdidas_gpt2 is None:
        problemas.append("perdidas_gpt2 sigue valiendo None.")
    elif (not isinstance(perdidas_gpt2, (list, tuple)) or len(perdidas_gpt2) != 2
          or any(a_numero(v) is None for v in perdidas_gpt2)):
        problemas.append(f"perdidas_gpt2 debe ser una pareja (entrenamiento, validación); es {describir(perdidas_gpt2)}.")
    else:
        tr, va = (a_numero(v) for v in perdidas_gpt2)
        libro_tr, libro_va = PERDIDAS_GPT2_LIBRO
        if _cerca(tr, PERDIDAS_VERDICT[0], atol=0.01) or _cerca(va, PERDIDAS_VERDICT[1], atol=0.01):
            problemas.append(f"perdidas_gpt2 = ({tr:.3f}, {va:.3f}) son las del modelo que entrenaste en el cuaderno 2; "
                             "mide con gpt2, el modelo con los pesos de OpenAI.")
        elif _cerca(tr, libro_va, atol=0.02) and _cerca(va, libro_tr, atol=0.02):
            problemas.append("Las dos pérdidas están cambiadas de orden: primero la de entrenamiento, después la de "
                             "validación.")
        elif not (_cerca(tr, libro_tr, atol=0.02) and _cerca(va, libro_va, atol=0.02)):
            problemas.append(f"perdidas_gpt2 = ({tr:.3f}, {va:.3f}); con GPT-2 124M y los cargadores del cuaderno 2 "
                             "deberían salir unas 3.75 y 3.56. ¿Usas el 124M, con calc_loss_loader sobre todos los "
                             "lotes?")
    if perplejidad_gpt2 is None:
        problemas.append("perplejidad_gpt2 sigue valiendo None.")
    else:
        p = a_numero(perplejidad_gpt2)
        esperada = math.exp(PERDIDAS_GPT2_LIBRO[1])
        if p is None:
            problemas.append(f"perplejidad_gpt2 debe ser un número; es {describir(perplejidad_gpt2)}.")
        elif _cerca(p, math.exp(PERDIDAS_GPT2_LIBRO[0]), rtol=0.03):
            problemas.append(f"perplejidad_gpt2 = {p:.1f} es la de entrenamiento; el ejercicio pide la de validación.")
        elif not _cerca(p, esperada, rtol=0.03):
            problemas.append(f"perplejidad_gpt2 = {p:.1f}; la perplejidad de validación es exp(pérdida de validación).")
    resultado = informar(nombre, problemas)
    if problemas and gpt2 is None:
        print(_SIN_PESOS)
    return resultado


def comprobar_ejercicio_5_6(contar_parametros) -> bool:
    """Ejercicio 5.6: `contar_parametros(cfg)` debe dar, con una fórmula, los parámetros de GPT-2 de cada tamaño
    (pesos compartidos entre `wte` y la cabeza de salida, `qkv_bias=True`). También se acepta un diccionario
    {nombre del modelo: número}. No necesita los pesos."""
    nombre = "Ejercicio 5.6"
    if contar_parametros is None:
        return informar(nombre, None)
    from seccion05.loadWeightsGPT2 import GPT2_MODELS, gpt2_config, gpt2_expected_shapes

    if callable(contar_parametros):
        try:
            if contar_parametros(dict(gpt2_config("gpt2-small (124M)"))) is None:
                return informar(nombre, None)  # la función del enunciado, que todavía devuelve None
        except Exception:  # se informa abajo, con el tamaño que falla
            pass
    problemas = []
    for modelo in GPT2_MODELS:
        cfg = gpt2_config(modelo)
        esperado = sum(torch.Size(forma).numel() for forma in gpt2_expected_shapes(cfg).values())
        if callable(contar_parametros):
            try:
                respuesta = contar_parametros(dict(cfg))
            except Exception as error:  # la función del alumno puede fallar de cualquier forma
                problemas.append(describir_error(f"contar_parametros(gpt2_config({modelo!r}))", error))
                break
        elif isinstance(contar_parametros, dict):
            if modelo not in contar_parametros:
                problemas.append(f"Falta {modelo!r} en el diccionario.")
                continue
            respuesta = contar_parametros[modelo]
        else:
            return informar(nombre, [f"contar_parametros debe ser una función de la configuración (o un diccionario); "
                                     f"es {describir(contar_parametros)}."])
        n = a_entero(respuesta)
        if n is None:
            problemas.append(f"Para {modelo}, la respuesta debe ser un entero; es {describir(respuesta)} ({respuesta!r}).")
        elif n == esperado:
            continue
        elif n == esperado + cfg["vocab_size"] * cfg["emb_dim"]:
            problemas.append(f"{modelo}: {miles(n)} cuenta la cabeza de salida aparte; GPT-2 comparte esa matriz con "
                             "el embedding de tokens, así que no suma parámetros.")
        elif n == esperado - 3 * cfg["emb_dim"] * cfg["n_layers"]:
            problemas.append(f"{modelo}: {miles(n)} no cuenta los sesgos de consulta, clave y valor (qkv_bias=True en "
                             "GPT-2).")
        elif n == esperado - cfg["context_length"] * cfg["emb_dim"]:
            problemas.append(f"{modelo}: {miles(n)} no cuenta el embedding de posición (1024 × emb_dim).")
        elif n == esperado - 4 * cfg["emb_dim"] * cfg["n_layers"] - 2 * cfg["emb_dim"]:
            problemas.append(f"{modelo}: {miles(n)} no cuenta la escala y el desplazamiento de las normalizaciones "
                             "de capa.")
        else:
            problemas.append(f"{modelo}: {miles(n)} parámetros, pero el archivo de GPT-2 tiene {miles(esperado)}.")
    return informar(nombre, problemas)


# --- Cuaderno 6 ------------------------------------------------------------------------------------------------------

def comprobar_ejercicio_5_13(model, ids_sin_cache, ids_con_cache) -> bool:
    """Ejercicio 5.13: `ids_sin_cache` (generate_text_simple) e `ids_con_cache` (generate_cached) deben ser los
    mismos 20 tokens voraces de `model` tras «Every effort moves you»."""
    nombre = "Ejercicio 5.13"
    if ids_sin_cache is None and ids_con_cache is None:
        return informar(nombre, None)
    from seccion02_TrabajarDatosTexto.tokenizerGPT2 import get_tokenizer
    from seccion04_ImplementacionGPTGeneracionTexto.generateTextSimple import generate_text_simple

    problemas = []
    for etiqueta, valor in (("ids_sin_cache", ids_sin_cache), ("ids_con_cache", ids_con_cache)):
        if valor is None:
            problemas.append(f"{etiqueta} sigue valiendo None.")
        elif not isinstance(valor, torch.Tensor) or valor.dim() != 2:
            problemas.append(f"{etiqueta} debe ser un tensor de ids (1, n); es {describir(valor)}.")
    if problemas:
        return informar(nombre, problemas)
    if ids_con_cache is ids_sin_cache:
        return informar(nombre, ["ids_con_cache es el mismo tensor que ids_sin_cache: calcúlalo con generate_cached."])
    try:
        idx = torch.tensor([get_tokenizer().encode(INICIO_5_13)])
        modo = model.training
        with torch.no_grad(), torch.random.fork_rng(devices=[]):
            model.eval()  # voraz y sin dropout
            try:
                esperado = generate_text_simple(model, idx, max_new_tokens=TOKENS_5_13,
                                                context_size=model.pos_emb.weight.shape[0])
            finally:
                model.train(modo)  # el modelo queda en el modo en que estaba
    except Exception as error:  # el modelo que se pasa puede no ser un GPTModel
        return informar(nombre, [describir_error("Generar con model", error)])
    longitud = idx.shape[1] + TOKENS_5_13
    for etiqueta, valor, funcion in (("ids_sin_cache", ids_sin_cache, "generate_text_simple"),
                                     ("ids_con_cache", ids_con_cache, "generate_cached")):
        valor = valor.cpu()
        if valor.shape[1] != longitud:
            problemas.append(f"{etiqueta} tiene {valor.shape[1]} tokens; se esperaban {longitud}: los {idx.shape[1]} "
                             f"del inicio y {TOKENS_5_13} nuevos.")
        elif not torch.equal(valor[:, : idx.shape[1]], idx):
            problemas.append(f"{etiqueta} no empieza por los tokens de «{INICIO_5_13}».")
        elif not torch.equal(valor, esperado):
            problemas.append(f"{etiqueta} no es la continuación voraz de model: ¿usaste {funcion} con temperature=0 y "
                             "un modelo con los mismos pesos (GPTModelFast.from_model(model))?")
    return informar(nombre, problemas)


def comprobar_ejercicio_5_14(bytes_cache) -> bool:
    """Ejercicio 5.14: bytes que reserva KVCache(n_layers=12, max_len=256) para el GPT de 124M, lote de 1, fp32."""
    nombre = "Ejercicio 5.14"
    if bytes_cache is None:
        return informar(nombre, None)
    cfg = CFG_124M_256
    numeros_por_tensor = cfg["context_length"] * cfg["emb_dim"]  # n_heads × max_len × head_dim
    esperado = 2 * cfg["n_layers"] * numeros_por_tensor * 4
    b = a_entero(bytes_cache)
    if b is None:
        return informar(nombre, [f"bytes_cache debe ser un número entero de bytes; es {describir(bytes_cache)} "
                                 f"({bytes_cache!r})."])
    if b == esperado:
        return informar(nombre, [])
    if b == esperado // 4:
        problema = f"bytes_cache = {miles(b)} es el número de valores guardados; cada uno ocupa 4 bytes en fp32."
    elif b == esperado // 2:
        problema = (f"bytes_cache = {miles(b)} es la mitad: o cuentas solo las claves (la caché guarda claves y "
                    "valores), o 2 bytes por número (fp32 usa 4).")
    elif b == esperado // cfg["n_layers"]:
        problema = f"bytes_cache = {miles(b)} es lo de una sola capa; la caché guarda claves y valores en las 12."
    elif b == esperado // cfg["n_heads"]:
        problema = (f"bytes_cache = {miles(b)} cuenta una sola cabeza: cada tensor es (1, n_heads, max_len, "
                    "head_dim), con n_heads × head_dim = emb_dim.")
    else:
        problema = (f"bytes_cache = {miles(b)}; cuenta claves y valores, de forma (1, 12, 256, 64), en cada una de las "
                    "12 capas, a 4 bytes por número.")
    return informar(nombre, [problema])


# --- Cuaderno 7 ------------------------------------------------------------------------------------------------------

# Ejercicio 5.15: qué aporta cada pieza de train_model, con el GPT diminuto del ejercicio 5.10 y una tasa máxima alta
EPOCAS_5_15, EVAL_FREQ_5_15, EVAL_ITER_5_15 = 2, 12, 5  # 2 épocas de 36 lotes de 8 × 16 tokens: 72 pasos
PEAK_LR_5_15, INITIAL_LR_5_15, MIN_LR_5_15, MAX_NORM_5_15 = 0.1, 1e-5, 1e-5, 1.0
WARMUP_STEPS_5_15 = int(0.2 * EPOCAS_5_15 * LOTES_POR_EPOCA_5_10)  # el 20 % de los 72 pasos: 14
# Las cuatro variantes: lo que cambia cada una en los argumentos de train_model respecto a la completa
VARIANTES_5_15 = {
    "completo": {},
    "sin_calentamiento": {"warmup_steps": 0},
    "sin_decaimiento": {"min_lr": PEAK_LR_5_15},
    "sin_recorte": {"max_norm": None},
}
PIEZAS_5_15 = {"calentamiento": "sin_calentamiento", "decaimiento": "sin_decaimiento", "recorte": "sin_recorte"}
_PISTAS_5_15 = {
    "completo": f"warmup_steps={WARMUP_STEPS_5_15}, initial_lr={INITIAL_LR_5_15}, min_lr={MIN_LR_5_15} y "
                f"max_norm={MAX_NORM_5_15}, con AdamW(lr={PEAK_LR_5_15}, weight_decay=0.1)",
    "sin_calentamiento": "como la completa, pero con warmup_steps=0",
    "sin_decaimiento": f"como la completa, pero con min_lr={PEAK_LR_5_15} (igual que la tasa máxima)",
    "sin_recorte": "como la completa, pero con max_norm=None",
}
_CURVAS_5_15 = None


def _curvas_5_15() -> dict:
    """Las pérdidas (entrenamiento, validación) de las cuatro variantes del ejercicio 5.15, calculadas una vez."""
    global _CURVAS_5_15
    if _CURVAS_5_15 is None:
        import contextlib
        import io

        from seccion02_TrabajarDatosTexto.dataloader_v1 import create_dataloader_v1
        from seccion02_TrabajarDatosTexto.theVerdict import load_the_verdict
        from seccion02_TrabajarDatosTexto.tokenizerGPT2 import get_tokenizer
        from seccion04_ImplementacionGPTGeneracionTexto.gptModel import GPTModel
        from seccion05.trainModel import train_model

        texto = load_the_verdict()
        corte = int(0.90 * len(texto))
        cargadores = [
            create_dataloader_v1(parte, batch_size=8, max_length=16, stride=16, drop_last=drop, shuffle=drop,
                                 num_workers=0)
            for parte, drop in ((texto[:corte], True), (texto[corte:], False))
        ]
        tokenizer = get_tokenizer()
        curvas = {}
        for variante, cambios in VARIANTES_5_15.items():
            argumentos = {"warmup_steps": WARMUP_STEPS_5_15, "initial_lr": INITIAL_LR_5_15, "min_lr": MIN_LR_5_15,
                          "max_norm": MAX_NORM_5_15, **cambios}
            with torch.random.fork_rng(devices=[]), contextlib.redirect_stdout(io.StringIO()):
                torch.manual_seed(123)
                modelo = GPTModel(CFG_DIMINUTO)
                optimizador = torch.optim.AdamW(modelo.parameters(), lr=PEAK_LR_5_15, weight_decay=0.1)
                train, val, _, _ = train_model(
                    modelo, *cargadores, optimizador, "cpu", n_epochs=EPOCAS_5_15, eval_freq=EVAL_FREQ_5_15,
                    eval_iter=EVAL_ITER_5_15, start_context="Every effort moves you", tokenizer=tokenizer, **argumentos,
                )
            curvas[variante] = (train, val)
        _CURVAS_5_15 = curvas
    return _CURVAS_5_15


def _misma_curva(a: list[float], b: list[float]) -> bool:
    return len(a) == len(b) and all(_cerca(x, y, rtol=1e-3) for x, y in zip(a, b, strict=True))


def comprobar_ejercicio_5_15(perdidas, pieza) -> bool:
    """Ejercicio 5.15: `perdidas` = {variante: pérdidas de validación que devuelve train_model} para las cuatro
    variantes de `VARIANTES_5_15`, y `pieza`, la pieza («calentamiento», «decaimiento» o «recorte») cuya ausencia sube
    más la última pérdida de validación. Recalcula las cuatro variantes (unos segundos, la primera vez)."""
    nombre = "Ejercicio 5.15"
    if perdidas is None and pieza is None:
        return informar(nombre, None)
    problemas = []
    if perdidas is None:
        problemas.append("perdidas_5_15 sigue valiendo None.")
    elif not isinstance(perdidas, dict):
        problemas.append(f"perdidas_5_15 debe ser un diccionario {{variante: pérdidas de validación}} con las claves "
                         f"{', '.join(VARIANTES_5_15)}; es {describir(perdidas)}.")
    else:
        faltan = [v for v in VARIANTES_5_15 if v not in perdidas]
        if faltan:
            problemas.append(f"A perdidas_5_15 le faltan las variantes {', '.join(faltan)}.")
    if problemas:
        return informar(nombre, problemas)
    try:
        curvas = _curvas_5_15()
    except Exception as error:  # sin «The Verdict», por ejemplo
        return informar(nombre, [describir_error("Entrenar las variantes para comprobarlas", error)])
    evaluaciones = len(curvas["completo"][1])
    for variante in VARIANTES_5_15:
        etiqueta = f"perdidas_5_15[{variante!r}]"
        lista = _lista_de_perdidas(perdidas[variante], etiqueta, problemas)
        if lista is None:
            continue
        if len(lista) != evaluaciones:
            problemas.append(f"{etiqueta} tiene {len(lista)} pérdidas; se esperaban {evaluaciones}: {EPOCAS_5_15} "
                             f"épocas de {LOTES_POR_EPOCA_5_10} pasos con una evaluación cada {EVAL_FREQ_5_15}.")
        elif _misma_curva(lista, curvas[variante][1]):
            continue
        elif _misma_curva(lista, curvas[variante][0]):
            problemas.append(f"{etiqueta} son las pérdidas de entrenamiento; el ejercicio pide las de validación (la "
                             "segunda lista que devuelve train_model).")
        else:
            otra = next((v for v in VARIANTES_5_15 if v != variante and _misma_curva(lista, curvas[v][1])), None)
            if otra is not None:
                problemas.append(f"{etiqueta} son las pérdidas de la variante {otra!r}. La variante {variante!r} se "
                                 f"entrena {_PISTAS_5_15[variante]}.")
            else:
                problemas.append(f"{etiqueta} no son las pérdidas de esa variante: se entrena {_PISTAS_5_15[variante]}. "
                                 "¿Fijaste la semilla 123 justo antes de crear cada modelo (y su optimizador)?")
    finales = {v: curvas[v][1][-1] for v in VARIANTES_5_15}
    subidas = {p: finales[v] - finales["completo"] for p, v in PIEZAS_5_15.items()}
    esperada = max(subidas, key=subidas.get)
    if pieza is None:
        problemas.append("pieza_5_15 sigue valiendo None.")
    elif not isinstance(pieza, str) or pieza.strip().lower() not in PIEZAS_5_15:
        problemas.append(f"pieza_5_15 debe ser una de {', '.join(repr(p) for p in PIEZAS_5_15)}; es {pieza!r}.")
    elif pieza.strip().lower() != esperada:
        p = pieza.strip().lower()
        cambio = "sube" if subidas[p] > 0 else "baja"
        problemas.append(
            f"pieza_5_15 = {pieza!r}: sin esa pieza, la última pérdida de validación {cambio} de "
            f"{finales['completo']:.3f} a {finales[PIEZAS_5_15[p]]:.3f}. Busca la variante cuya última pérdida de "
            "validación queda más por encima de la completa."
        )
    return informar(nombre, problemas)


def _modelo_con_gradientes():
    """Un GPT diminuto (semilla 123) con los gradientes de un lote de «The Verdict», sin tocar el generador."""
    import copy

    from seccion02_TrabajarDatosTexto.theVerdict import load_the_verdict
    from seccion02_TrabajarDatosTexto.tokenizerGPT2 import get_tokenizer
    from seccion04_ImplementacionGPTGeneracionTexto.gptModel import GPTModel
    from seccion05.calcLoss import calc_loss_batch

    ids = torch.tensor(get_tokenizer().encode(load_the_verdict()[:2000])[: 4 * 17]).view(4, 17)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(123)
        modelo = GPTModel(CFG_DIMINUTO)
        calc_loss_batch(ids[:, :-1], ids[:, 1:], modelo, "cpu").backward()

    def copia():
        otro = copy.deepcopy(modelo)  # deepcopy no copia los gradientes de los parámetros
        for p, q in zip(otro.parameters(), modelo.parameters(), strict=True):
            p.grad = q.grad.clone()
        return otro

    return copia


def comprobar_ejercicio_5_16(recortar_gradientes) -> bool:
    """Ejercicio 5.16: `recortar_gradientes(model, max_norm)` debe hacer lo mismo que
    `torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)`: devolver la norma total de los gradientes de antes
    de recortar y, si pasa de `max_norm`, multiplicar todos los gradientes por max_norm / (norma + 1e-6)."""
    nombre = "Ejercicio 5.16"
    if recortar_gradientes is None:
        return informar(nombre, None)
    if not callable(recortar_gradientes):
        return informar(nombre, [f"recortar_gradientes debe ser una función (model, max_norm); es "
                                 f"{describir(recortar_gradientes)}."])
    try:
        nuevo_modelo = _modelo_con_gradientes()
    except Exception as error:  # sin «The Verdict», por ejemplo
        return informar(nombre, [describir_error("Preparar el modelo de prueba", error)])
    referencia = nuevo_modelo()
    norma = torch.nn.utils.clip_grad_norm_(referencia.parameters(), max_norm=float("inf")).item()
    problemas = []
    for max_norm, recorta in ((norma / 4, True), (norma * 2, False)):
        esperado, alumno = nuevo_modelo(), nuevo_modelo()
        torch.nn.utils.clip_grad_norm_(esperado.parameters(), max_norm=max_norm)
        try:
            with torch.random.fork_rng(devices=[]):
                devuelto = recortar_gradientes(alumno, max_norm)
        except Exception as error:  # la función del alumno puede fallar de cualquier forma
            return informar(nombre, [describir_error(f"recortar_gradientes(model, max_norm={max_norm:.4g})", error)])
        antes = [p.grad for p in nuevo_modelo().parameters()]
        despues = [p.grad for p in alumno.parameters()]
        if any(g is None for g in despues):
            return informar(nombre, ["Tras tu función, algún parámetro se ha quedado sin gradiente (p.grad es None): "
                                     "cambia los gradientes en su sitio (p.grad.mul_(factor)), sin borrarlos."])
        sin_cambios = all(torch.equal(a, b) for a, b in zip(antes, despues, strict=True))
        if devuelto is None and sin_cambios and recorta:
            return informar(nombre, None)  # la función del enunciado, que todavía no hace nada
        bien = all(torch.allclose(g, e.grad, rtol=1e-5, atol=1e-9)
                   for g, e in zip(despues, esperado.parameters(), strict=True))
        total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in despues])).item()
        if recorta and not bien:
            if sin_cambios:
                problemas.append(f"Con max_norm={max_norm:.4g} y una norma total de {norma:.4g}, tu función no cambia "
                                 "los gradientes: hay que multiplicarlos por max_norm / norma.")
            elif all(torch.linalg.vector_norm(g).item() <= max_norm * (1 + 1e-4) for g in despues) and total > max_norm * 1.01:
                problemas.append(f"Parece que recortas cada parámetro por separado: la norma que cuenta es la de todos "
                                 f"los gradientes juntos (tras tu recorte, {total:.4g}; debería ser {max_norm:.4g}).")
            else:
                problemas.append(f"Con max_norm={max_norm:.4g}, tras tu recorte la norma total es {total:.4g}; "
                                 f"debería ser {max_norm:.4g}, con todos los gradientes multiplicados por el mismo "
                                 "factor, max_norm / (norma + 1e-6).")
        elif not recorta and not bien:
            problemas.append(f"Con max_norm={max_norm:.4g}, mayor que la norma total ({norma:.4g}), los gradientes no "
                             f"deben cambiar; tu función los deja con norma {total:.4g}. Recorta solo si la norma pasa "
                             "de max_norm.")
        d = a_numero(devuelto)
        if devuelto is None:
            problemas.append("recortar_gradientes no devuelve nada: debe devolver la norma total de antes de recortar, "
                             "como clip_grad_norm_.")
        elif d is None:
            problemas.append(f"recortar_gradientes debe devolver un número (la norma de antes); devuelve "
                             f"{describir(devuelto)}.")
        elif _cerca(d, total, rtol=1e-5) and recorta and not _cerca(d, norma, rtol=1e-5):
            problemas.append(f"recortar_gradientes devuelve {d:.4g}, la norma de después de recortar; debe devolver "
                             f"la de antes, {norma:.4g}.")
        elif not _cerca(d, norma, rtol=1e-5):
            problemas.append(f"recortar_gradientes devuelve {d:.4g}, pero la norma total de los gradientes es "
                             f"{norma:.4g}: la raíz de la suma de los cuadrados de todos sus números.")
        if problemas:
            break
    return informar(nombre, problemas)


# --- Cuaderno 8: evaluar más allá de la pérdida ---------------------------------------------------------------------

SUAVIZADO_5_17 = 0.01  # el k del suavizado add-k del ejercicio 5.17


def _ids_verdict() -> tuple[list[int], list[int]]:
    """Los ids de tokens del 90 % de entrenamiento y del 10 % de validación de «The Verdict» (los del cuaderno 8)."""
    from seccion02_TrabajarDatosTexto.theVerdict import load_the_verdict
    from seccion02_TrabajarDatosTexto.tokenizerGPT2 import get_tokenizer

    texto, tokenizador = load_the_verdict(), get_tokenizer()
    corte = int(0.90 * len(texto))
    return tokenizador.encode(texto[:corte]), tokenizador.encode(texto[corte:])


def comprobar_ejercicio_5_17(perdida_unigrama, gana_el_modelo, perdida_del_modelo) -> bool:
    """Ejercicio 5.17: `perdida_unigrama` debe ser la pérdida unigrama de la validación con add-k, k = 0.01, y
    `gana_el_modelo` debe decir si `perdida_del_modelo` (la de validación del modelo de «The Verdict») es menor."""
    from seccion05.evalMetrics import unigram_perplexity

    nombre = "Ejercicio 5.17"
    if perdida_unigrama is None and gana_el_modelo is None:
        return informar(nombre, None)
    modelo = a_numero(perdida_del_modelo)
    if modelo is None:
        return informar(nombre, [f"perdida_del_modelo debe ser la pérdida de validación del modelo de «The Verdict» "
                                 f"(losses['The Verdict'][1]); es {describir(perdida_del_modelo)}."])
    try:
        train_ids, val_ids = _ids_verdict()
    except Exception as error:  # sin «The Verdict», por ejemplo
        return informar(nombre, [describir_error("Preparar los tokens de «The Verdict»", error)])
    vocab = 50257
    esperada = unigram_perplexity(train_ids, val_ids, vocab, smoothing=SUAVIZADO_5_17).loss
    problemas = []
    p = a_numero(perdida_unigrama)
    if perdida_unigrama is None:
        problemas.append("Falta perdida_unigrama: la media de −ln p(v) sobre los tokens de val_ids.")
    elif p is None:
        problemas.append(f"perdida_unigrama debe ser un número; es {describir(perdida_unigrama)}.")
    elif not _cerca(p, esperada, rtol=1e-6):
        cuentas = torch.bincount(torch.tensor(train_ids), minlength=vocab).double()
        val = torch.tensor(val_ids)
        sin_kv = float(-torch.log((cuentas[val] + SUAVIZADO_5_17) / len(train_ids)).mean())
        con_k1 = unigram_perplexity(train_ids, val_ids, vocab, smoothing=1.0).loss
        sobre_train = unigram_perplexity(train_ids, train_ids, vocab, smoothing=SUAVIZADO_5_17).loss
        if _cerca(p, math.exp(esperada), rtol=1e-6):
            problemas.append(f"perdida_unigrama = {p:.1f} es la perplejidad, exp(pérdida); el ejercicio pide la "
                             "pérdida, la media de −ln p(v).")
        elif _cerca(p, -esperada, rtol=1e-6):
            problemas.append(f"perdida_unigrama = {p:.4f} es negativa: la pérdida es la media de −ln p(v), con el "
                             "signo menos.")
        elif _cerca(p, con_k1, rtol=1e-6):
            problemas.append(f"perdida_unigrama = {p:.4f} es la del suavizado con k = 1; el ejercicio pide k = 0.01.")
        elif _cerca(p, sin_kv, rtol=1e-6):
            problemas.append(f"perdida_unigrama = {p:.4f}: falta k · V en el denominador, (cuenta + k) / (N + k · V), "
                             "para que las probabilidades de los 50 257 tokens sumen 1.")
        elif _cerca(p, sobre_train, rtol=1e-6):
            problemas.append(f"perdida_unigrama = {p:.4f} es la pérdida sobre train_ids; haz la media sobre los "
                             "tokens de val_ids (las cuentas sí salen de train_ids).")
        else:
            problemas.append(f"perdida_unigrama = {p:.6g}, pero la pérdida unigrama con k = 0.01 es {esperada:.6g}. "
                             "Revisa la fórmula (cuenta(v) + k) / (N + k · V) y la media de −ln p(v) sobre val_ids.")
    gana = modelo < esperada
    if gana_el_modelo is None:
        problemas.append("Falta gana_el_modelo: True si la pérdida de validación del modelo es menor que la unigrama.")
    elif not isinstance(gana_el_modelo, bool):
        problemas.append(f"gana_el_modelo debe ser True o False; es {gana_el_modelo!r}.")
    elif gana_el_modelo != gana:
        problemas.append(f"gana_el_modelo = {gana_el_modelo}, pero la pérdida del modelo ({modelo:.3f}) es "
                         f"{'menor' if gana else 'mayor o igual'} que la unigrama ({esperada:.3f}).")
    return informar(nombre, problemas)


def _ece_referencia(confianzas: list[float], aciertos: list[bool], n_bins: int, ponderar: bool = True,
                    absoluto: bool = True) -> float:
    """ECE con bucles de Python y las cajas (i/n, (i+1)/n]; sin ponderar o sin valor absoluto, los errores típicos."""
    cajas: dict[int, list[tuple[float, bool]]] = {}
    for c, a in zip(confianzas, aciertos, strict=True):
        caja = 0 if c <= 0 else min(math.ceil(c * n_bins) - 1, n_bins - 1)
        cajas.setdefault(caja, []).append((c, a))
    huecos = []
    for contenido in cajas.values():
        hueco = sum(a for _, a in contenido) / len(contenido) - sum(c for c, _ in contenido) / len(contenido)
        huecos.append((len(contenido), abs(hueco) if absoluto else hueco))
    if ponderar:
        return sum(n * h for n, h in huecos) / len(confianzas)
    return sum(h for _, h in huecos) / len(huecos)


def _casos_5_18():
    """Predicciones de prueba: (descripción, confianzas, aciertos, n_bins)."""
    generador = torch.Generator().manual_seed(518)
    confianzas = torch.rand(2_000, generator=generador, dtype=torch.float64)
    # Un predictor demasiado seguro: acierta con probabilidad confianza², no confianza
    aciertos = torch.rand(2_000, generator=generador, dtype=torch.float64) < confianzas ** 2
    # Uno que acierta la mitad de las veces diga lo que diga: prudente por debajo de 0.5 y confiado por encima, así
    # que su ECE depende de las cajas (con huecos de un solo signo, el ECE es el hueco medio con cualquier n_bins)
    aciertos_mitad = torch.rand(2_000, generator=generador, dtype=torch.float64) < 0.5
    return [
        ("un predictor sintético (2 000 predicciones, tensores)", confianzas, aciertos, 10),
        ("otro que acierta la mitad de las veces (2 000 predicciones)", confianzas, aciertos_mitad, 5),
        ("listas de Python con confianzas 0, 0.5 y 1", [0.0, 0.05, 0.5, 0.5, 0.93, 1.0, 1.0],
         [False, False, True, False, True, True, False], 10),
    ]


def comprobar_ejercicio_5_18(ece_a_mano) -> bool:
    """Ejercicio 5.18: `ece_a_mano(confidences, correct, n_bins=10)` debe dar el ECE de `expected_calibration_error`."""
    from seccion05.evalMetrics import expected_calibration_error

    nombre = "Ejercicio 5.18"
    if ece_a_mano is None:
        return informar(nombre, None)
    if not callable(ece_a_mano):
        return informar(nombre, [f"ece_a_mano debe ser una función (confidences, correct, n_bins=10); es "
                                 f"{describir(ece_a_mano)}."])
    for descripcion, confianzas, aciertos, n_bins in _casos_5_18():
        esperado = expected_calibration_error(confianzas, aciertos, n_bins)
        try:
            with torch.random.fork_rng(devices=[]):
                devuelto = ece_a_mano(confianzas, aciertos, n_bins=n_bins)
        except Exception as error:  # la función del alumno puede fallar de cualquier forma
            return informar(nombre, [describir_error(f"ece_a_mano con {descripcion}", error)])
        d = a_numero(devuelto)
        if d is None:
            return informar(nombre, [f"ece_a_mano debe devolver un número; con {descripcion} devuelve "
                                     f"{describir(devuelto)}."])
        if _cerca(d, esperado, rtol=1e-9, atol=1e-12):
            continue
        lista_c = [float(c) for c in confianzas]
        lista_a = [bool(a) for a in aciertos]
        if math.isnan(d):
            problema = "da nan: seguramente cuentas las cajas vacías; sáltatelas (no tienen media)."
        elif _cerca(d, _ece_referencia(lista_c, lista_a, n_bins, ponderar=False), rtol=1e-9):
            problema = ("es la media de los huecos sin ponderar: pondera cada caja por su fracción de predicciones, "
                        "n_caja / N.")
        elif any(_cerca(d, signo * _ece_referencia(lista_c, lista_a, n_bins, absoluto=False), rtol=1e-9)
                 for signo in (1, -1)):
            problema = "olvida el valor absoluto del hueco de cada caja: los huecos de signo contrario se compensan."
        else:
            problema = f"da {d:.6g}, pero el ECE es {esperado:.6g}."
        return informar(nombre, [f"Con {descripcion} y n_bins={n_bins}, tu función {problema}"])
    return informar(nombre, [])


def _casos_5_19():
    """(generado, entrenamiento) de prueba, con tramos copiados conocidos."""
    generador = torch.Generator().manual_seed(519)
    entrenamiento = torch.randint(0, 50, (300,), generator=generador).tolist()
    generado = torch.randint(50, 100, (40,), generator=generador).tolist()
    generado[10:17] = entrenamiento[120:127]  # un tramo de 7 tokens copiado
    generado[25:28] = entrenamiento[5:8]  # y otro de 3
    return [
        ([5, 1, 2, 3, 9], [1, 2, 3, 4, 1, 2]),  # el del enunciado: 3
        ([7, 8, 9], [1, 2, 3]),  # sin nada en común: 0
        ([1, 2, 3], [0, 1, 2, 3, 4]),  # todo copiado: 3
        ([1, 2, 9, 3, 4, 9, 2, 3], [1, 2, 3, 4]),  # todos los tokens están, pero sueltos: 2
        (generado, entrenamiento),  # aleatorio, con un tramo de 7
    ]


def comprobar_ejercicio_5_19(tramo_copiado) -> bool:
    """Ejercicio 5.19: `tramo_copiado(generado, entrenamiento)` debe dar la longitud de `longest_copied_span`."""
    from seccion05.evalMetrics import longest_copied_span

    nombre = "Ejercicio 5.19"
    if tramo_copiado is None:
        return informar(nombre, None)
    if not callable(tramo_copiado):
        return informar(nombre, [f"tramo_copiado debe ser una función (generado, entrenamiento); es "
                                 f"{describir(tramo_copiado)}."])
    for generado, entrenamiento in _casos_5_19():
        esperado = longest_copied_span(generado, entrenamiento).length
        try:
            with torch.random.fork_rng(devices=[]):
                devuelto = tramo_copiado(list(generado), list(entrenamiento))
        except Exception as error:  # la función del alumno puede fallar de cualquier forma
            return informar(nombre, [describir_error("tramo_copiado", error)])
        caso = (f"tramo_copiado({generado}, {entrenamiento})" if len(entrenamiento) < 20 else
                "con un texto aleatorio de 40 tokens que copia un tramo de 7 de otro de 300")
        d = a_entero(devuelto)
        if d is None:
            extra = " (devuelve la longitud, no el tramo)" if isinstance(devuelto, (list, tuple)) else ""
            return informar(nombre, [f"{caso} debe devolver un entero{extra}; devuelve {describir(devuelto)}."])
        if d == esperado:
            continue
        sueltos = sum(token in set(entrenamiento) for token in generado)
        if d == sueltos and d != esperado:
            problema = (f"{caso} da {d}, el número de tokens de generado que están en entrenamiento; cuenta solo los "
                        f"que van seguidos, en el mismo orden: debería dar {esperado}.")
        else:
            problema = f"{caso} da {d}; debería dar {esperado}."
        return informar(nombre, [problema])
    return informar(nombre, [])
