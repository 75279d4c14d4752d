"""La validación común de los argumentos de generación de texto, con errores en español.

`generate_text_simple` (sección 4), `generate` (sección 5) y la generación con caché KV (seccion05/generateCached.py)
la llaman en su primera línea: así un `context_size=0`, un `max_new_tokens` negativo, un `idx` sin dimensión de lote
o una temperatura que haría que softmax diera inf o nan fallan todos igual, con un mensaje que dice qué se ha
recibido y qué se admite. No genera nada ni comprueba opciones propias de un generador (como `use_cache`).
"""

from __future__ import annotations

import numbers

import torch

from seccion02_TrabajarDatosTexto.checkArgs import check_int

# Temperaturas admitidas, además de 0 (voraz). Por debajo de 0.01, logits / temperature se desborda en float16
# (máximo 65 504) en cuanto un logit pasa de 655, y el muestreo ya es prácticamente voraz. Por encima de 1000, la
# distribución ya es casi uniforme, y pasado 65 504 la temperatura misma sería inf en float16 (con top-k, -inf / inf
# da nan). En float32 el margen es mucho mayor, pero una temperatura de 1e-30 o inf también da inf o nan.
MIN_TEMPERATURE = 0.01
MAX_TEMPERATURE = 1000.0

_DTYPES_IDS = (torch.long, torch.int32)


def _comprobar_idx(idx) -> None:
    """`idx` debe ser un tensor 2-D (lote, num_tokens) de enteros torch.long o torch.int32 con algún token."""
    if not isinstance(idx, torch.Tensor):
        raise TypeError(
            f"idx debe ser un tensor de ids de forma (lote, num_tokens); has pasado un {type(idx).__name__}. "
            "Conviértelo con torch.tensor([ids]) (fíjate en los dos corchetes: un lote de un texto)."
        )
    if idx.dim() != 2:
        consejo = (
            " Para un solo texto, añade la dimensión del lote con idx.unsqueeze(0)."
            if idx.dim() == 1
            else ""
        )
        raise ValueError(
            f"idx debe tener forma (lote, num_tokens); has pasado un tensor de forma {tuple(idx.shape)}.{consejo}"
        )
    if idx.shape[0] == 0 or idx.shape[1] == 0:
        raise ValueError(
            f"idx debe tener al menos un texto y un token para empezar a generar; has pasado un tensor de forma "
            f"{tuple(idx.shape)}. Si partes de un texto vacío, empieza por el token de fin: "
            "torch.tensor([[50256]]) en GPT-2."
        )
    if idx.dtype not in _DTYPES_IDS:
        raise ValueError(
            f"Los ids de idx deben ser enteros torch.long (o torch.int32); has pasado dtype={idx.dtype}. "
            "Conviértelos con idx.long()."
        )


def _comprobar_temperatura(temperature) -> float:
    """0 (voraz) o un número en [MIN_TEMPERATURE, MAX_TEMPERATURE]; devuelve un float."""
    es_numero = isinstance(temperature, numbers.Real) and not isinstance(temperature, bool)
    if es_numero and (temperature == 0 or MIN_TEMPERATURE <= temperature <= MAX_TEMPERATURE):
        return float(temperature)
    raise ValueError(
        f"temperature debe ser 0 (decodificación voraz) o un número entre {MIN_TEMPERATURE} y {MAX_TEMPERATURE:g}; "
        f"has pasado {temperature!r} ({type(temperature).__name__}). Fuera de ese rango, "
        "softmax(logits / temperature) puede dar inf o nan; para elegir siempre el token más probable, usa 0."
    )


def check_generation_args(
    model,
    idx,
    max_new_tokens,
    context_size,
    temperature=0.0,
    top_k=None,
    eos_id=None,
) -> int:
    """Valida los argumentos de una función de generación y devuelve la ventana efectiva.

    - `model`: un GPTModel (o compatible, con `tok_emb` y `pos_emb`): de él salen vocab_size y context_length.
    - `idx`: tensor de ids (lote, num_tokens), torch.long o torch.int32, con al menos un token.
    - `max_new_tokens`: entero >= 0. `context_size`: entero entre 1 y context_length, o None (= context_length).
    - `temperature`: 0 (voraz) o un número entre 0.01 y 1000. `top_k`: None o entero entre 1 y vocab_size.
    - `eos_id`: None o un id del vocabulario (entre 0 y vocab_size - 1).

    Devuelve `context_size`, o el context_length del modelo si es None. Lanza ValueError (TypeError si idx no es
    un tensor o el modelo no tiene tok_emb y pos_emb) con un mensaje en español.
    Se explica en: seccion04_ImplementacionGPTGeneracionTexto/1_implementacion_gpt.ipynb
    """
    vocab_size = getattr(getattr(model, "tok_emb", None), "num_embeddings", None)
    context_length = getattr(getattr(model, "pos_emb", None), "num_embeddings", None)
    if vocab_size is None or context_length is None:
        raise TypeError(
            f"model debe ser un GPTModel (con las capas tok_emb y pos_emb, de las que salen vocab_size y "
            f"context_length); has pasado un {type(model).__name__}."
        )
    _comprobar_idx(idx)
    check_int("max_new_tokens", max_new_tokens, minimum=0)
    window = check_int(
        "context_size",
        context_size,
        minimum=1,
        maximum=context_length,
        allow_none=True,
        hint=f"Es la ventana de tokens que ve el modelo, como mucho su context_length={context_length}.",
    )
    if window is None:
        window = context_length
    _comprobar_temperatura(temperature)
    check_int(
        "top_k",
        top_k,
        minimum=1,
        maximum=vocab_size,
        allow_none=True,
        hint=f"Es cuántos de los tokens más probables se conservan, como mucho todo el vocabulario (vocab_size={vocab_size}).",
    )
    check_int(
        "eos_id",
        eos_id,
        minimum=0,
        maximum=vocab_size - 1,
        allow_none=True,
        hint=f"Debe ser un id del vocabulario (vocab_size={vocab_size}); en GPT-2, <|endoftext|> es 50256.",
    )
    return window
