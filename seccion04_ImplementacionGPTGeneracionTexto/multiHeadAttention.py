"""Atención causal multicabeza: `MultiHeadAttention` vive ahora en la sección 3.

La clase está en seccion03_MecanismosAtencion/multiHeadAttention.py y se explica en
seccion03_MecanismosAtencion/1_mecanismos_atencion.ipynb. Este módulo solo la reexporta, para que sigan funcionando
`from seccion04_ImplementacionGPTGeneracionTexto.multiHeadAttention import MultiHeadAttention` y quien la usa
(transformerBlock.py, gptModel.py, seccion05/gptModelFast.py).
"""

from seccion03_MecanismosAtencion.multiHeadAttention import MultiHeadAttention

__all__ = ["MultiHeadAttention"]
