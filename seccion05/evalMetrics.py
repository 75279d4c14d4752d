"""Medidas para evaluar un modelo de lenguaje más allá de la pérdida media: líneas base, bits por byte, pérdida por
posición, tasa de aciertos top-k, calibración, memorización y diversidad del texto generado.

La entropía cruzada media (`calc_loss_loader`) dice cuánto se equivoca el modelo, pero no contra qué compararla ni
dónde ni cómo se equivoca. Este módulo reúne, una función por medida, lo que hace falta para responderlo:

- Líneas base: la perplejidad de adivinar al azar (`uniform_perplexity`) y la de contar frecuencias de tokens
  (`unigram_perplexity`), con su pérdida en nats para ponerlas junto a la del modelo.
- Bits por byte y por carácter (`text_nll`, `bits_per_byte`, `bits_per_char`): la pérdida de un texto entero,
  independiente del tokenizador, para comparar modelos con vocabularios distintos o textos de otro dominio.
- Dónde se equivoca: `loss_by_position` (la pérdida en cada posición de la ventana) y `top_k_accuracy`.
- Calibración: si la probabilidad que da el modelo a su token favorito coincide con lo a menudo que acierta
  (`collect_confidences`, `calibration_bins`, `expected_calibration_error`, `plot_reliability_diagram`).
- Memorización y diversidad del texto generado: `longest_copied_span`, `copied_ngram_fraction`, `distinct_n` y
  `repetition_rate`.

Para qué no es: no entrena ni genera texto (eso lo hacen `train_model_simple` y `generate`), no descarga nada y no es
una batería de pruebas de referencia (benchmarks) como las que publican los artículos: mide modelos del curso sobre
textos del curso. Las cifras solo se comparan entre sí cuando salen del mismo texto y del mismo tokenizador, salvo los
bits por byte, que no dependen del tokenizador.

Se explica en: seccion05/8_evaluar_mas_alla_de_la_perdida.ipynb, que mide con estas funciones el modelo sin entrenar,
el de «The Verdict» y GPT-2 (si están sus pesos).
"""

from __future__ import annotations

import contextlib
import math
import numbers
from typing import NamedTuple

import matplotlib.pyplot as plt
import torch
import torch.nn as nn

from imgs.figuras.estilo import AZUL, ESTILO_GRAFICAS, GRIS, ROJO
from seccion02_TrabajarDatosTexto.checkArgs import check_int, check_number
from seccion02_TrabajarDatosTexto.tokenizerGPT2 import ENDOFTEXT_ID
from seccion05.calcLoss import text_to_token_ids

LN2 = math.log(2.0)  # para pasar de nats (logaritmo natural) a bits (logaritmo en base 2)


# --- Comprobaciones de la entrada (privadas) ----------------------------------------------------------------------

def _describir(value) -> str:
    """`[1, 2] (list)` o `tensor de forma (2, 3) y tipo torch.float32`: lo que se ha recibido, en pocas palabras."""
    if isinstance(value, torch.Tensor):
        return f"un tensor de forma {tuple(value.shape)} y tipo {value.dtype}"
    texto = repr(value)
    if len(texto) > 60:
        texto = texto[:57] + "..."
    return f"{texto} ({type(value).__name__})"


def _ids_1d(name: str, ids) -> list[int]:
    """Una lista de ids de tokens (lista, tupla o tensor 1-D o (1, n) de enteros) -> lista de int de Python.

    Rechaza con un error en español lo vacío, los números que no son enteros, los negativos y otras formas.
    """
    que_se_admite = (
        f"{name} debe ser una lista de ids de tokens (enteros mayores o iguales que 0) o un tensor de enteros de forma "
        "(num_tokens,) o (1, num_tokens)"
    )
    if isinstance(ids, torch.Tensor):
        entero = not (ids.dtype.is_floating_point or ids.dtype.is_complex or ids.dtype == torch.bool)
        forma_valida = ids.dim() == 1 or (ids.dim() == 2 and ids.shape[0] == 1)
        if not (entero and forma_valida):
            raise ValueError(f"{que_se_admite}; has pasado {_describir(ids)}.")
        lista = ids.reshape(-1).tolist()
    elif isinstance(ids, (list, tuple, range)):
        lista = list(ids)
        for posicion, token in enumerate(lista):
            if isinstance(token, torch.Tensor) and token.dim() == 0:
                token = token.item()
            if not isinstance(token, numbers.Integral) or isinstance(token, bool):
                raise ValueError(
                    f"{que_se_admite}; en la posición {posicion} hay {_describir(token)}."
                )
            lista[posicion] = int(token)
    else:
        raise ValueError(f"{que_se_admite}; has pasado {_describir(ids)}.")
    if not lista:
        raise ValueError(f"{name} está vacío: no hay ningún token que medir. Pasa al menos un id de token.")
    negativos = [t for t in lista if t < 0]
    if negativos:
        raise ValueError(f"{que_se_admite}; contiene el id negativo {negativos[0]}.")
    return lista


def _n_valido(n, ids: list[int], name: str) -> int:
    """Comprueba `n` (entero >= 1) y que `ids` tenga al menos `n` tokens, es decir, algún n-grama."""
    n = check_int("n (tokens por n-grama)", n, minimum=1)
    if len(ids) < n:
        raise ValueError(
            f"{name} tiene {len(ids)} tokens, menos que n={n}: no contiene ningún n-grama de {n} tokens. Usa un n "
            "menor o una secuencia más larga."
        )
    return n


def _ngramas(ids: list[int], n: int) -> list[tuple[int, ...]]:
    """Los len(ids) - n + 1 n-gramas de `ids`, en orden (con repeticiones)."""
    return [tuple(ids[i:i + n]) for i in range(len(ids) - n + 1)]


def _comprobar_modelo(model, data_loader=None) -> None:
    """El modelo debe ser un nn.Module; si parece que se han cambiado de orden modelo y cargador, lo dice."""
    if isinstance(model, nn.Module):
        return
    pista = ""
    if isinstance(data_loader, nn.Module):
        pista = " Parece que has pasado el cargador y el modelo en el orden contrario: el orden es (model, data_loader)."
    raise TypeError(
        f"model debe ser un modelo de PyTorch (un nn.Module, como GPTModel); has pasado {type(model).__name__}.{pista}"
    )


def _dispositivo(model: nn.Module, device) -> torch.device:
    """`device`, o el de los parámetros del modelo si es None (la CPU si el modelo no tiene parámetros)."""
    if device is not None:
        return torch.device(device)
    parametro = next(model.parameters(), None)
    return parametro.device if parametro is not None else torch.device("cpu")


def _lotes(data_loader, num_batches):
    """Recorre los primeros `num_batches` lotes (entradas, objetivos) de `data_loader`, comprobando cada uno.

    Lanza un ValueError si el cargador no da ningún lote.
    """
    num_batches = check_int("num_batches", num_batches, minimum=1, allow_none=True)
    usados = 0
    for lote in data_loader:
        if num_batches is not None and usados >= num_batches:
            break
        if not (isinstance(lote, (tuple, list)) and len(lote) == 2):
            raise ValueError(
                "Cada lote del cargador debe ser un par (entradas, objetivos), como los de create_dataloader_v1; "
                f"el lote {usados} es {_describir(lote)}."
            )
        entradas, objetivos = lote
        if not (isinstance(entradas, torch.Tensor) and isinstance(objetivos, torch.Tensor)
                and entradas.dim() == 2 and entradas.shape == objetivos.shape):
            raise ValueError(
                "Las entradas y los objetivos de cada lote deben ser tensores de la misma forma (lote, num_tokens); "
                f"en el lote {usados}, las entradas son {_describir(entradas)} y los objetivos, "
                f"{_describir(objetivos)}."
            )
        usados += 1
        yield entradas, objetivos
    if usados == 0:
        raise ValueError(
            "El cargador de datos no ha dado ningún lote: no hay nada que medir. Usa un texto más largo, un "
            "batch_size menor o drop_last=False."
        )


def _comprobar_objetivos(objetivos: torch.Tensor, vocab_size: int) -> None:
    """Los objetivos deben ser ids del vocabulario del modelo (0 <= id < vocab_size)."""
    if objetivos.dtype.is_floating_point or objetivos.dtype == torch.bool:
        raise ValueError(f"Los objetivos deben ser ids de tokens enteros; son de tipo {objetivos.dtype}.")
    minimo, maximo = int(objetivos.min()), int(objetivos.max())
    if minimo < 0 or maximo >= vocab_size:
        fuera = minimo if minimo < 0 else maximo
        raise ValueError(
            f"Hay un objetivo con id {fuera}, fuera del vocabulario del modelo: los ids válidos van de 0 a "
            f"{vocab_size - 1}."
        )


@contextlib.contextmanager
def _modo_evaluacion(model: nn.Module):
    """`with _modo_evaluacion(model):` mide en modo evaluación y sin gradientes, y deja el modelo como estaba."""
    entrenando = model.training
    model.eval()  # sin dropout: se mide el modelo tal cual
    try:
        with torch.no_grad():
            yield
    finally:
        model.train(entrenando)


def _logits_y_objetivos(model, data_loader, device, num_batches):
    """Para cada lote: (logits (b, num_tokens, vocab_size) en float32, objetivos (b, num_tokens)), en `device`.

    Úsalo dentro de `with _modo_evaluacion(model):` (el generador no abre contextos: si quien lo recorre falla, el
    modelo no debe quedarse en modo evaluación ni sin gradientes).
    """
    device = _dispositivo(model, device)
    for entradas, objetivos in _lotes(data_loader, num_batches):
        entradas, objetivos = entradas.to(device), objetivos.to(device)
        logits = model(entradas).float()  # (b, num_tokens, vocab_size), en fp32 aunque el modelo use bf16
        _comprobar_objetivos(objetivos, logits.shape[-1])
        yield logits, objetivos


# --- 1. Líneas base ------------------------------------------------------------------------------------------------

class PerplexityResult(NamedTuple):
    """Una pérdida (entropía cruzada media, en nats por token) y su perplejidad, exp(loss)."""

    loss: float  # nats por token, comparable con calc_loss_loader
    perplexity: float  # exp(loss)


def uniform_perplexity(vocab_size: int) -> PerplexityResult:
    """La línea base más simple: un modelo que da la misma probabilidad, 1 / vocab_size, a cada token.

    Su pérdida es ln(vocab_size) en cualquier texto y su perplejidad, vocab_size: con el vocabulario de GPT-2,
    ln(50 257) = 10.8249 nats y perplejidad 50 257. Un modelo sin entrenar anda cerca; uno que no baja de aquí no ha
    aprendido nada. Devuelve `PerplexityResult(loss, perplexity)`, que también se desempaqueta: `loss, ppl = ...`.
    """
    vocab_size = check_int("vocab_size", vocab_size, minimum=1)
    return PerplexityResult(loss=math.log(vocab_size), perplexity=float(vocab_size))


def unigram_perplexity(train_ids, eval_ids, vocab_size: int, smoothing: float = 1.0) -> PerplexityResult:
    """La línea base de frecuencias: predice cada token con su frecuencia en `train_ids`, sin mirar el contexto.

    p(v) = (cuenta de v en train_ids + smoothing) / (len(train_ids) + smoothing · vocab_size)  (suavizado add-k)

    y la pérdida es la media de -ln p(v) sobre todos los tokens de `eval_ids` (nats por token). Un modelo que no baja
    de esta pérdida solo ha aprendido qué tokens son frecuentes, no a usar el contexto. `smoothing=0` es la frecuencia
    sin suavizar: entonces un token de `eval_ids` que no sale en `train_ids` tendría probabilidad 0 (error).

    train_ids, eval_ids: listas o tensores de ids (num_tokens,) o (1, num_tokens), con ids < vocab_size.
    Devuelve `PerplexityResult(loss, perplexity)`. Para sus bits por byte sobre el texto de `eval_ids`, usa
    `bits_per_byte(loss * len(eval_ids), texto)`: puntúa todos los tokens, como `text_nll` con bos_id.
    """
    vocab_size = check_int("vocab_size", vocab_size, minimum=1)
    smoothing = check_number("smoothing (suavizado add-k)", smoothing, minimum=0.0)
    entrenamiento, evaluacion = _ids_1d("train_ids", train_ids), _ids_1d("eval_ids", eval_ids)
    for nombre, ids in (("train_ids", entrenamiento), ("eval_ids", evaluacion)):
        if max(ids) >= vocab_size:
            raise ValueError(
                f"{nombre} contiene el id {max(ids)}, fuera del vocabulario: con vocab_size={vocab_size}, los ids "
                f"válidos van de 0 a {vocab_size - 1}."
            )
    cuentas = torch.bincount(torch.tensor(entrenamiento), minlength=vocab_size).double()  # (vocab_size,)
    probas = (cuentas + smoothing) / (len(entrenamiento) + smoothing * vocab_size)  # (vocab_size,)
    probas_eval = probas[torch.tensor(evaluacion)]  # (len(eval_ids),)
    if (probas_eval == 0).any():
        token = evaluacion[int(torch.nonzero(probas_eval == 0)[0])]
        raise ValueError(
            f"Con smoothing=0, el token {token} de eval_ids no aparece en train_ids: su probabilidad es 0 y la "
            "perplejidad sería infinita. Usa smoothing > 0 (por ejemplo 1.0)."
        )
    loss = float(-torch.log(probas_eval).mean())
    return PerplexityResult(loss=loss, perplexity=math.exp(loss))


# --- 2. Bits por byte y por carácter ------------------------------------------------------------------------------

class TextNLL(NamedTuple):
    """La log-verosimilitud negativa de un texto bajo un modelo (ver `text_nll`)."""

    total_nats: float  # suma de -ln p(token | contexto) sobre los tokens puntuados
    num_tokens: int  # cuántos tokens se han puntuado
    scored_text: str  # el trozo del texto que forman esos tokens (todo el texto salvo con bos_id=None)


def text_nll(model, text: str, tokenizer, context_length: int | None = None, stride: int | None = None,
             device: str | torch.device | None = None, bos_id: int | None = ENDOFTEXT_ID) -> TextNLL:
    """Suma de -ln p(token | contexto), en nats, de los tokens de `text` bajo `model`, por ventanas.

    Qué tokens se puntúan (para que las comparaciones sean honestas):
    - Con `bos_id` (por defecto 50256, `<|endoftext|>`, el separador de documentos de GPT-2) se pone ese token delante
      del texto, como contexto del primero: se puntúan TODOS los tokens del texto y `scored_text` es `text`. Así los
      bits por byte pagan todos los bytes. Es la convención habitual con GPT-2, que separa los documentos con ese token.
    - Con `bos_id=None`, el primer token no tiene contexto y no se puntúa: se puntúan los num_tokens - 1 siguientes, y
      `scored_text` es el texto sin ese primer token. Divide entre los bytes de `scored_text`, no de `text`.

    Ventanas: el modelo ve como mucho `context_length` tokens (por defecto, su longitud de contexto). Con
    `stride=None` (o igual a context_length) las ventanas no se solapan: cada token se puntúa una vez y su contexto va
    de 1 token (el primero de cada ventana) a context_length. Con un `stride` menor, cada ventana avanza `stride`
    tokens y solo puntúa los tokens nuevos, que tienen al menos context_length - stride + 1 tokens de contexto: más
    lento (unas context_length / stride veces) y, en un modelo entrenado, con una pérdida algo menor, porque cada token
    ve más contexto. Cada token se puntúa una sola vez en cualquier caso.

    Mide en modo evaluación y sin gradientes, y deja el modelo como estaba. Devuelve
    `TextNLL(total_nats, num_tokens, scored_text)`; la pérdida media es total_nats / num_tokens.
    """
    _comprobar_modelo(model)
    if not isinstance(text, str) or not text:
        raise ValueError(f"text debe ser un texto no vacío (str); has pasado {_describir(text)}.")
    if not (callable(getattr(tokenizer, "encode", None)) and callable(getattr(tokenizer, "decode_bytes", None))):
        raise TypeError(
            "tokenizer debe tener los métodos encode y decode_bytes (por ejemplo, get_tokenizer()); has pasado "
            f"{type(tokenizer).__name__}."
        )
    if context_length is None:
        if not isinstance(getattr(model, "pos_emb", None), nn.Embedding):
            raise ValueError(
                "El modelo no tiene pos_emb (los embeddings de posición de GPTModel), así que no sé su longitud de "
                "contexto: pásala con context_length."
            )
        context_length = model.pos_emb.num_embeddings
    context_length = check_int("context_length", context_length, minimum=1)
    stride = check_int("stride", stride, minimum=1, maximum=context_length, allow_none=True,
                       hint="El stride no puede pasar de context_length: quedarían tokens sin puntuar.")
    stride = context_length if stride is None else stride
    bos_id = check_int("bos_id", bos_id, minimum=0, allow_none=True)
    device = _dispositivo(model, device)

    ids = text_to_token_ids(text, tokenizer)[0].tolist()  # (num_tokens,)
    if bos_id is None:
        if len(ids) < 2:
            raise ValueError(
                f"Con bos_id=None el primer token no se puntúa y el texto tiene {len(ids)} token: no queda nada que "
                "medir. Usa un texto más largo o bos_id=50256."
            )
        secuencia = ids
        scored_text = tokenizer.decode_bytes(ids[1:]).decode("utf-8", errors="replace")
    else:
        secuencia = [bos_id] + ids
        scored_text = text
    secuencia = torch.tensor(secuencia, dtype=torch.long, device=device)  # (L,)
    ultimo = len(secuencia) - 1  # los objetivos son las posiciones 1..ultimo

    total, puntuados = 0.0, 0
    inicio, puntuado_hasta = 0, 0  # los objetivos de posición <= puntuado_hasta ya se han puntuado
    with _modo_evaluacion(model):
        while puntuado_hasta < ultimo:
            fin = min(inicio + context_length, ultimo)
            entradas = secuencia[inicio:fin].unsqueeze(0)  # (1, fin - inicio)
            objetivos = secuencia[inicio + 1:fin + 1]  # (fin - inicio,)
            log_probas = torch.log_softmax(model(entradas)[0].float(), dim=-1)  # (fin - inicio, vocab_size)
            nll = -log_probas.gather(-1, objetivos.unsqueeze(-1)).squeeze(-1)  # (fin - inicio,)
            nuevos = nll[puntuado_hasta - inicio:]  # solo los objetivos que no se han puntuado antes
            total += float(nuevos.double().sum())
            puntuados += nuevos.numel()
            puntuado_hasta = fin
            inicio += stride
    return TextNLL(total_nats=total, num_tokens=puntuados, scored_text=scored_text)


def _comprobar_nll_y_texto(total_nll_nats, text) -> float:
    total = check_number("total_nll_nats (log-verosimilitud negativa en nats)", total_nll_nats, minimum=0.0)
    if not isinstance(text, str) or not text:
        raise ValueError(
            f"text debe ser el texto no vacío (str) cuyos tokens se han puntuado; has pasado {_describir(text)}."
        )
    return total


def bits_per_byte(total_nll_nats: float, text: str) -> float:
    """Bits por byte: total_nll_nats / ln 2 / (bytes UTF-8 de `text`).

    Cuántos bits necesitaría, por cada byte, un compresor guiado por el modelo. No depende del tokenizador: un modelo
    que parte el texto en menos tokens no sale ganando por ello. `text` debe ser exactamente el texto puntuado
    (`text_nll(...).scored_text`). En español, «ñ» o «á» ocupan 2 bytes: los bits por carácter son algo mayores.
    """
    total = _comprobar_nll_y_texto(total_nll_nats, text)
    return total / LN2 / len(text.encode("utf-8"))


def bits_per_char(total_nll_nats: float, text: str) -> float:
    """Bits por carácter: total_nll_nats / ln 2 / len(text) (caracteres Unicode, no bytes). Ver `bits_per_byte`."""
    total = _comprobar_nll_y_texto(total_nll_nats, text)
    return total / LN2 / len(text)


# --- 3. Pérdida por posición y 4. tasa de aciertos top-k -----------------------------------------------------------

def loss_by_position(model, data_loader, device: str | torch.device | None = None,
                     num_batches: int | None = None) -> torch.Tensor:
    """Entropía cruzada media en cada posición 0..num_tokens-1 de la ventana: tensor float64 de forma (num_tokens,).

    La posición j predice el token j + 1 de la ventana viendo j + 1 tokens de contexto, así que la posición 0 (un solo
    token de contexto) suele ser la más difícil. Usa los primeros `num_batches` lotes (todos si es None); `device`
    None es el dispositivo del modelo. La media de todas las posiciones es la pérdida media por token, la misma que
    `calc_loss_loader` cuando todos los lotes tienen el mismo tamaño (calc_loss_loader promedia las medias de cada
    lote). Si los lotes tienen ventanas de longitudes distintas, el tensor tiene la longitud de la mayor y cada
    posición promedia los lotes que la tienen. Un cargador sin lotes da un ValueError.
    """
    _comprobar_modelo(model, data_loader)
    sumas = torch.zeros(0, dtype=torch.float64)
    cuentas = torch.zeros(0, dtype=torch.long)
    with _modo_evaluacion(model):
        for logits, objetivos in _logits_y_objetivos(model, data_loader, device, num_batches):
            perdidas = torch.nn.functional.cross_entropy(logits.transpose(1, 2), objetivos, reduction="none")  # (b, n)
            n = perdidas.shape[1]
            if n > sumas.numel():  # una ventana más larga que las anteriores
                sumas = torch.cat((sumas, torch.zeros(n - sumas.numel(), dtype=torch.float64)))
                cuentas = torch.cat((cuentas, torch.zeros(n - cuentas.numel(), dtype=torch.long)))
            sumas[:n] += perdidas.double().sum(dim=0).cpu()  # suma sobre el lote: (n,)
            cuentas[:n] += perdidas.shape[0]
    return sumas / cuentas  # (num_tokens,)


def top_k_accuracy(model, data_loader, device: str | torch.device | None = None, ks=(1, 5),
                   num_batches: int | None = None) -> dict[int, float]:
    """Fracción de tokens siguientes que están entre los k más probables según el modelo, para cada k de `ks`.

    Con k = 1 es la fracción en que el token más probable (el que elige la decodificación voraz) es el correcto.
    Los empates se resuelven como en torch.topk. `ks`: un entero o una secuencia de enteros entre 1 y vocab_size.
    Devuelve {k: tasa de aciertos entre 0 y 1}, por ejemplo {1: 0.2, 5: 0.41}. Un cargador sin lotes da un ValueError.
    """
    if isinstance(ks, numbers.Integral) and not isinstance(ks, bool):
        ks = (ks,)
    if not isinstance(ks, (tuple, list)) or not ks:
        raise ValueError(f"ks debe ser un entero o una lista no vacía de enteros (por ejemplo (1, 5)); has pasado "
                         f"{_describir(ks)}.")
    ks = [check_int("cada k de ks", k, minimum=1) for k in ks]
    _comprobar_modelo(model, data_loader)
    aciertos = dict.fromkeys(ks, 0)
    total = 0
    with _modo_evaluacion(model):
        for logits, objetivos in _logits_y_objetivos(model, data_loader, device, num_batches):
            vocab_size = logits.shape[-1]
            if max(ks) > vocab_size:
                raise ValueError(
                    f"cada k de ks debe estar entre 1 y vocab_size={vocab_size}; has pasado k={max(ks)}."
                )
            mejores = torch.topk(logits, max(ks), dim=-1).indices  # (b, n, max(ks)), de más a menos probable
            en_posicion = mejores == objetivos.unsqueeze(-1)  # (b, n, max(ks)): dónde está el objetivo, si está
            for k in ks:
                aciertos[k] += int(en_posicion[..., :k].any(dim=-1).sum())
            total += objetivos.numel()
    return {k: aciertos[k] / total for k in ks}


# --- 5. Calibración ------------------------------------------------------------------------------------------------

def collect_confidences(model, data_loader, device: str | torch.device | None = None,
                        num_batches: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Para cada token siguiente: la confianza del modelo y si acertó. Devuelve (confidences, correct), en la CPU.

    confidences: float32 de forma (num_predicciones,), la probabilidad (softmax) del token más probable.
    correct: bool de la misma forma, True si ese token es el objetivo.
    num_predicciones es el total de tokens de los lotes usados (b · num_tokens por lote). Son la entrada de
    `calibration_bins`, `expected_calibration_error` y `plot_reliability_diagram`.
    """
    _comprobar_modelo(model, data_loader)
    confianzas, aciertos = [], []
    with _modo_evaluacion(model):
        for logits, objetivos in _logits_y_objetivos(model, data_loader, device, num_batches):
            probas = torch.softmax(logits, dim=-1)  # (b, n, vocab_size)
            confianza, prediccion = probas.max(dim=-1)  # (b, n) y (b, n)
            confianzas.append(confianza.flatten().cpu())
            aciertos.append((prediccion == objetivos).flatten().cpu())
    return torch.cat(confianzas), torch.cat(aciertos)


class CalibrationBins(NamedTuple):
    """Las cajas de igual anchura de un diagrama de fiabilidad (ver `calibration_bins`). Tensores de la CPU."""

    edges: torch.Tensor  # (n_bins + 1,) float64: los bordes 0, 1/n_bins, ..., 1
    counts: torch.Tensor  # (n_bins,) long: cuántas predicciones caen en cada caja
    mean_confidence: torch.Tensor  # (n_bins,) float64: confianza media de la caja (nan si está vacía)
    accuracy: torch.Tensor  # (n_bins,) float64: tasa de aciertos de la caja (nan si está vacía)


def _confianzas_y_aciertos(confidences, correct) -> tuple[torch.Tensor, torch.Tensor]:
    """Comprueba y convierte a tensores 1-D float64 de la CPU: confianzas en [0, 1] y aciertos 0/1 o bool."""
    tensores = []
    for nombre, valor in (("confidences", confidences), ("correct", correct)):
        try:
            if isinstance(valor, torch.Tensor):
                tensores.append(valor.detach().cpu())
            else:  # una lista de floats de Python: en float64, sin redondearla a float32 (0.2 seguiría siendo 0.2)
                tensor = torch.as_tensor(valor)
                if tensor.dtype.is_floating_point:
                    tensor = torch.as_tensor(valor, dtype=torch.float64)
                tensores.append(tensor)
        except (TypeError, ValueError, RuntimeError):
            raise ValueError(
                f"{nombre} debe ser un tensor o una lista de números; has pasado {_describir(valor)}."
            ) from None
    confianzas, aciertos = tensores
    if confianzas.shape != aciertos.shape:
        raise ValueError(
            f"confidences y correct deben tener la misma forma (una confianza y un acierto por predicción); has "
            f"pasado confidences de forma {tuple(confianzas.shape)} y correct de forma {tuple(aciertos.shape)}."
        )
    if confianzas.numel() == 0:
        raise ValueError("confidences y correct están vacíos: no hay ninguna predicción que agrupar.")
    if confianzas.dtype.is_complex or confianzas.dtype == torch.bool:
        raise ValueError(f"confidences deben ser números reales entre 0 y 1; son de tipo {confianzas.dtype}.")
    confianzas = confianzas.double().flatten()
    fuera = ~((confianzas >= 0) & (confianzas <= 1))  # también nan
    if fuera.any():
        valor = float(confianzas[fuera][0])
        raise ValueError(
            f"Las confianzas deben ser probabilidades entre 0 y 1; la de la posición {int(fuera.nonzero()[0])} vale "
            f"{valor}."
        )
    aciertos = aciertos.double().flatten()
    if not ((aciertos == 0) | (aciertos == 1)).all():
        raise ValueError("correct debe valer True/False (o 1/0) en cada predicción; tiene otros valores.")
    return confianzas, aciertos


def calibration_bins(confidences, correct, n_bins: int = 10) -> CalibrationBins:
    """Agrupa las predicciones en `n_bins` cajas de igual anchura según su confianza, como un diagrama de fiabilidad.

    confidences: probabilidades entre 0 y 1, de cualquier forma (por ejemplo (num_predicciones,)); correct: bool (o
    0/1) de la misma forma. La caja i es el intervalo (i/n_bins, (i+1)/n_bins], cerrado a la derecha como en Guo et al.
    (2017), y la primera incluye el 0: una confianza justo en un borde va a la caja de abajo (se compara en float64).
    Devuelve `CalibrationBins(edges, counts, mean_confidence, accuracy)`; en un modelo bien calibrado,
    accuracy ≈ mean_confidence en cada caja.
    """
    n_bins = check_int("n_bins", n_bins, minimum=1)
    confianzas, aciertos = _confianzas_y_aciertos(confidences, correct)
    edges = torch.arange(n_bins + 1, dtype=torch.float64) / n_bins  # (n_bins + 1,): i / n_bins, sin redondeos acumulados
    caja = torch.bucketize(confianzas, edges[1:-1], right=False)  # (N,): borde[i-1] < c <= borde[i] -> caja i
    counts = torch.bincount(caja, minlength=n_bins)  # (n_bins,)
    suma_confianza = torch.bincount(caja, weights=confianzas, minlength=n_bins)  # (n_bins,)
    suma_aciertos = torch.bincount(caja, weights=aciertos, minlength=n_bins)  # (n_bins,)
    vacias = counts == 0
    mean_confidence = (suma_confianza / counts).masked_fill(vacias, float("nan"))
    accuracy = (suma_aciertos / counts).masked_fill(vacias, float("nan"))
    return CalibrationBins(edges=edges, counts=counts, mean_confidence=mean_confidence, accuracy=accuracy)


def expected_calibration_error(confidences, correct, n_bins: int = 10) -> float:
    """ECE (error de calibración esperado): Σ_cajas (n_caja / N) · |accuracy_caja − mean_confidence_caja|.

    La diferencia media, ponderada por el número de predicciones de cada caja, entre lo seguro que está el modelo y lo
    a menudo que acierta: 0 es una calibración perfecta; un modelo que dice 90 % y acierta el 60 % tiene ECE 0.3.
    Mismas entradas y cajas que `calibration_bins`. Depende de n_bins: compara ECE siempre con el mismo.
    """
    cajas = calibration_bins(confidences, correct, n_bins)
    llenas = cajas.counts > 0
    pesos = cajas.counts[llenas].double() / cajas.counts.sum()
    huecos = (cajas.accuracy[llenas] - cajas.mean_confidence[llenas]).abs()
    return float((pesos * huecos).sum())


def plot_reliability_diagram(confidences, correct, n_bins: int = 10, title: str | None = None):
    """Dibuja el diagrama de fiabilidad de unas predicciones y devuelve la figura de matplotlib.

    Arriba, la tasa de aciertos de cada caja (barras azules) frente a la diagonal de la calibración perfecta, con el
    hueco hasta la confianza media de la caja en rojo y el ECE en la leyenda; abajo, cuántas predicciones caen en cada
    caja (suelen concentrarse en las de confianza baja). Mismas entradas que `calibration_bins`.
    """
    if title is not None and not isinstance(title, str):
        raise ValueError(f"title debe ser un texto (str) o None; has pasado {_describir(title)}.")
    cajas = calibration_bins(confidences, correct, n_bins)
    ece = expected_calibration_error(confidences, correct, n_bins)
    llenas = cajas.counts > 0
    anchura = 1.0 / len(cajas.counts)
    centros = (cajas.edges[:-1] + anchura / 2)[llenas].tolist()
    aciertos = cajas.accuracy[llenas].tolist()
    confianzas = cajas.mean_confidence[llenas].tolist()

    with plt.rc_context(ESTILO_GRAFICAS):  # el estilo de las figuras del curso, solo para esta figura
        fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(5, 5.5), sharex=True, gridspec_kw={"height_ratios": [3, 1]})

        # Tasa de aciertos por caja frente a la calibración perfecta
        ax1.plot([0, 1], [0, 1], linestyle="--", color=GRIS, label="Calibración perfecta")
        ax1.bar(centros, aciertos, width=anchura, color=AZUL, edgecolor="white", label="Tasa de aciertos")
        huecos = [c - a for c, a in zip(confianzas, aciertos, strict=True)]
        # El hueco, rayado y sin relleno: se ve igual encima de la barra (demasiado confiado) que dentro (prudente)
        ax1.bar(centros, huecos, bottom=aciertos, width=anchura, facecolor="none", edgecolor=ROJO, hatch="///",
                linewidth=1.0, label=f"Hueco hasta la confianza\nmedia (ECE = {ece:.4f})")
        ax1.set_xlim(0, 1)
        ax1.set_ylim(0, 1)
        ax1.set_ylabel("Tasa de aciertos")
        ax1.legend(loc="upper left", fontsize=9)
        if title:
            ax1.set_title(title)

        # Cuántas predicciones hay en cada caja
        ax2.bar(centros, cajas.counts[llenas].tolist(), width=anchura, color=GRIS, edgecolor="white")
        ax2.set_xlabel("Confianza (probabilidad del token más probable)")
        ax2.set_ylabel("Predicciones")

        fig.tight_layout()
    return fig


# --- 6. Memorización y diversidad ----------------------------------------------------------------------------------

class CopiedSpan(NamedTuple):
    """El tramo más largo del texto generado que aparece tal cual en el de entrenamiento (ver `longest_copied_span`)."""

    length: int  # número de tokens del tramo (0 si no hay ningún token en común)
    start: int | None  # dónde empieza en generated_ids (None si length es 0)
    train_start: int | None  # dónde empieza en train_ids (None si length es 0)


def longest_copied_span(generated_ids, train_ids) -> CopiedSpan:
    """El tramo contiguo más largo de `generated_ids` que aparece tal cual, token a token, en `train_ids`.

    Es la subcadena común más larga entre las dos secuencias, por programación dinámica fila a fila con tensores:
    m × N comparaciones exactas (300 tokens generados × 5 000 de entrenamiento son 1.5 millones, milisegundos) y
    memoria O(N), sin hashes ni estructuras de sufijos que explicar. Si hay varios tramos igual de largos, devuelve el
    que empieza antes en `generated_ids` (y, dentro de él, la primera aparición en `train_ids`).

    generated_ids, train_ids: listas o tensores de ids (num_tokens,) o (1, num_tokens).
    Devuelve `CopiedSpan(length, start, train_start)`: generated_ids[start:start + length] ==
    train_ids[train_start:train_start + length].
    """
    generado = _ids_1d("generated_ids", generated_ids)
    entrenamiento = torch.tensor(_ids_1d("train_ids", train_ids))  # (N,)
    # fila[j] = longitud del tramo común que termina en generado[i] y en entrenamiento[j]
    fila = torch.zeros(len(entrenamiento), dtype=torch.long)  # (N,)
    mejor, fin_generado, fin_entrenamiento = 0, -1, -1
    for i, token in enumerate(generado):
        anterior = torch.cat((torch.zeros(1, dtype=torch.long), fila[:-1]))  # fila de i - 1, desplazada: (N,)
        fila = torch.where(entrenamiento == token, anterior + 1, 0)  # (N,)
        maximo = int(fila.max())
        if maximo > mejor:
            mejor, fin_generado, fin_entrenamiento = maximo, i, int(torch.argmax(fila))  # argmax: el primero
    if mejor == 0:
        return CopiedSpan(length=0, start=None, train_start=None)
    return CopiedSpan(length=mejor, start=fin_generado - mejor + 1, train_start=fin_entrenamiento - mejor + 1)


def copied_ngram_fraction(generated_ids, train_ids, n: int) -> float:
    """Fracción de los n-gramas de `generated_ids` (contados con repeticiones) que aparecen en `train_ids`.

    Con n = 8 o más, un n-grama copiado casi nunca sale por casualidad: una fracción alta indica que el modelo repite
    el texto de entrenamiento de memoria. Ambas secuencias deben tener al menos n tokens.
    """
    generado = _ids_1d("generated_ids", generated_ids)
    entrenamiento = _ids_1d("train_ids", train_ids)
    n = _n_valido(n, generado, "generated_ids")
    _n_valido(n, entrenamiento, "train_ids")
    vistos = set(_ngramas(entrenamiento, n))
    ngramas = _ngramas(generado, n)
    return sum(ngrama in vistos for ngrama in ngramas) / len(ngramas)


def distinct_n(ids, n: int) -> float:
    """distinct-n: n-gramas distintos / n-gramas totales de `ids` (que debe tener al menos n tokens).

    1.0 si ningún n-grama se repite; cerca de 0 en un texto que da vueltas sobre lo mismo. Depende de la longitud (un
    texto más largo repite más): compara textos de la misma longitud.
    """
    secuencia = _ids_1d("ids", ids)
    n = _n_valido(n, secuencia, "ids")
    ngramas = _ngramas(secuencia, n)
    return len(set(ngramas)) / len(ngramas)


def repetition_rate(ids, n: int, window: int | None = None) -> float:
    """Fracción de los n-gramas de `ids` que ya habían aparecido antes en el mismo texto.

    El n-grama que empieza en la posición i cuenta como repetido si el mismo n-grama empieza en alguna posición j < i
    (pueden solaparse). Con `window=None` se mira todo el texto anterior, y entonces repetition_rate = 1 − distinct_n
    (cada n-grama distinto tiene una primera aparición que no cuenta). Con `window` = w solo se mira en las w
    posiciones anteriores (i − w <= j < i): mide los bucles locales típicos de la decodificación voraz. El primer
    n-grama nunca es repetido.
    """
    secuencia = _ids_1d("ids", ids)
    n = _n_valido(n, secuencia, "ids")
    window = check_int("window", window, minimum=1, allow_none=True)
    ngramas = _ngramas(secuencia, n)
    ultima_vez: dict[tuple[int, ...], int] = {}  # n-grama -> última posición en que empezó
    repetidos = 0
    for i, ngrama in enumerate(ngramas):
        j = ultima_vez.get(ngrama)
        if j is not None and (window is None or i - j <= window):
            repetidos += 1
        ultima_vez[ngrama] = i
    return repetidos / len(ngramas)

