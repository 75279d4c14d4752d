"""La caché KV: las claves y los valores ya calculados de cada capa, para generar sin recalcularlos.

La usan `GPTModelFast` (gptModelFast.py), que la llena capa a capa, y `generate_cached` (generateCached.py), que la
crea para cada generación. No sabe nada del modelo: solo guarda tensores y dice cuántas posiciones están llenas.

Se explica en: seccion05/6_rendimiento.ipynb
"""

from __future__ import annotations

import torch

from seccion02_TrabajarDatosTexto.checkArgs import check_int


class KVCache:
    """Claves y valores ya calculados de cada capa, para no recalcularlos en cada token generado.

    Cada capa guarda dos tensores reservados de antemano, de forma (b, n_heads, max_len, head_dim); `seq_len` dice
    cuántas posiciones están llenas. Se reservan en la primera llamada a `update` (con el dtype y el dispositivo
    de las claves que llegan), así que no hace falta decirle el tamaño del lote.
    """

    def __init__(self, n_layers: int, max_len: int):
        self.max_len = check_int("max_len", max_len, minimum=1)
        n_layers = check_int("n_layers", n_layers, minimum=1)
        self.keys = [None] * n_layers
        self.values = [None] * n_layers
        self.seq_len = 0  # posiciones ya guardadas (las mismas en todas las capas)

    def update(self, layer_idx: int, keys: torch.Tensor, values: torch.Tensor):
        """Guarda las claves y valores nuevos (b, n_heads, n, head_dim) tras los ya guardados y devuelve todos."""
        inicio, n = self.seq_len, keys.shape[2]
        if self.keys[layer_idx] is None:
            # Primera vez: reserva el hueco completo, con el dtype y el dispositivo de las claves
            b, h, _, d = keys.shape
            self.keys[layer_idx] = keys.new_empty(b, h, self.max_len, d)
            self.values[layer_idx] = values.new_empty(b, h, self.max_len, d)
        self.keys[layer_idx][:, :, inicio : inicio + n] = keys
        self.values[layer_idx][:, :, inicio : inicio + n] = values
        return self.keys[layer_idx][:, :, : inicio + n], self.values[layer_idx][:, :, : inicio + n]

    def reset(self) -> None:
        """Vacía la caché (conserva la memoria reservada)."""
        self.seq_len = 0
