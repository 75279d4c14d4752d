"""Comprobación de la configuración de GPTModel antes de construirlo, con errores en español.

Sin ella, una clave que falta da un `KeyError` escueto, `n_layers=-1` construye en silencio un modelo sin bloques y
`qkv_bias="False"` activa el sesgo (una cadena no vacía es verdadera). `check_config` no construye nada ni comprueba
que `emb_dim` sea divisible entre `n_heads`: eso lo dice MultiHeadAttention, que es quien lo necesita.
"""

from __future__ import annotations

from collections.abc import Mapping

from seccion02_TrabajarDatosTexto.checkArgs import check_int, check_number

# Las claves que GPTModel lee de su configuración, en el orden de GPT_CONFIG_124M.
REQUIRED_KEYS = ("vocab_size", "context_length", "emb_dim", "n_heads", "n_layers", "drop_rate", "qkv_bias")


def check_config(cfg) -> None:
    """Lanza un error claro si `cfg` no es una configuración válida de GPTModel; si lo es, no hace nada.

    Admite lo mismo que GPT_CONFIG_124M: tamaños enteros mayores o iguales que 1 (vocab_size, context_length,
    emb_dim, n_heads, n_layers), drop_rate entre 0 y 1 y qkv_bias True o False. Las claves de más se ignoran.
    Se explica en: seccion04_ImplementacionGPTGeneracionTexto/1_implementacion_gpt.ipynb
    """
    if not isinstance(cfg, Mapping):
        raise TypeError(
            f"La configuración de GPTModel debe ser un diccionario como GPT_CONFIG_124M; has pasado un "
            f"{type(cfg).__name__}."
        )
    faltan = [clave for clave in REQUIRED_KEYS if clave not in cfg]
    if faltan:
        raise ValueError(
            f"A la configuración le faltan estas claves: {', '.join(faltan)}. GPTModel necesita las "
            f"{len(REQUIRED_KEYS)} claves {', '.join(REQUIRED_KEYS)} (mira GPT_CONFIG_124M en "
            "seccion04_ImplementacionGPTGeneracionTexto/gptConfig124M.py)."
        )
    for clave in ("vocab_size", "context_length", "emb_dim", "n_heads", "n_layers"):
        check_int(f'cfg["{clave}"]', cfg[clave], minimum=1)
    check_number('cfg["drop_rate"]', cfg["drop_rate"], minimum=0, maximum=1)
    if not isinstance(cfg["qkv_bias"], bool):
        raise ValueError(
            f'cfg["qkv_bias"] debe ser True o False; has pasado {cfg["qkv_bias"]!r} ({type(cfg["qkv_bias"]).__name__}).'
        )
