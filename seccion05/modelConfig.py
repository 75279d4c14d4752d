"""`model_config`: la configuración (el diccionario de GPT_CONFIG_124M) de un GPT ya construido, leída de sus capas.

La única función del curso que reconstruye una configuración a partir de un modelo: la usan los puntos de control
(saveLoadModel.py) y `GPTModelFast.from_model` (gptModelFast.py).
Sirve para `GPTModel` y para `GPTModelFast` (tienen las mismas capas). No valida la configuración: eso es
`check_config`.

Se explica en: seccion05/4_guardar_y_cargar_pesos.ipynb
"""

from __future__ import annotations

import torch.nn as nn


def model_config(model) -> dict:
    """Configuración (el diccionario de GPT_CONFIG_124M) de un GPTModel ya construido, leída de sus capas.

    `drop_rate` sale de las capas de dropout del modelo; si no tienen todas la misma probabilidad (porque se ha
    cambiado a mano alguna, como en el ejercicio 4.3), no hay un `drop_rate` que las describa y se lanza un
    ValueError en español que dice cuáles hay.
    """
    bloque = model.trf_blocks[0]
    tasas = sorted({m.p for m in model.modules() if isinstance(m, nn.Dropout)})
    if len(tasas) > 1:
        raise ValueError(
            f"Las capas de dropout del modelo no tienen todas la misma probabilidad (hay {tasas}), así que ningún "
            "drop_rate de la configuración las describe. Pon la misma en todas antes de leer la configuración, o "
            "escribe tú el diccionario."
        )
    return {
        "vocab_size": model.tok_emb.num_embeddings,
        "context_length": model.pos_emb.num_embeddings,
        "emb_dim": model.tok_emb.embedding_dim,
        "n_heads": bloque.att.num_heads,
        "n_layers": len(model.trf_blocks),
        "drop_rate": tasas[0] if tasas else 0.0,
        "qkv_bias": bloque.att.W_query.bias is not None,
    }
