"""`generate_cached`: la misma generación que `generate` (sección 5), pero con caché KV.

No tiene bucle propio ni reglas de muestreo propias: llama a `generate` (generate.py) con un adaptador del modelo,
`_PasoConCache`, que recibe la ventana entera como cualquier modelo y le pasa a `GPTModelFast` solo el token nuevo
(las claves y los valores anteriores ya están en la caché). Así top-k, temperatura, `eos_id` y los errores son
exactamente los de `generate`, y los tokens también.

Se explica en: seccion05/6_rendimiento.ipynb
"""

from __future__ import annotations

import torch

from seccion04_ImplementacionGPTGeneracionTexto.checkGenerationArgs import check_generation_args
from seccion05.cpuTricks import GEMVSplit, split_threads
from seccion05.generate import generate
from seccion05.gptModelFast import GPTModelFast
from seccion05.kvCache import KVCache


class _PasoConCache:
    """Se comporta como el modelo para `generate`: recibe la ventana (b, n) y devuelve sus logits (b, n', vocab).

    - Si la caché ya guarda las n − 1 primeras posiciones de la ventana, le pasa al modelo solo el token nuevo y
      devuelve los logits de esa posición (b, 1, vocab_size): los únicos que lee `generate`.
    - Si no (la primera llamada, o cuando la ventana se ha desplazado y las posiciones guardadas ya no valen),
      vacía la caché y le pasa la ventana entera (el prellenado).

    `tok_emb` y `pos_emb` son los del modelo: de ellos saca `generate` el vocabulario y la ventana al validar.
    """

    def __init__(self, model: GPTModelFast, cache: KVCache, split: GEMVSplit):
        self.model, self.cache, self.split = model, cache, split
        self.tok_emb, self.pos_emb = model.tok_emb, model.pos_emb

    def __call__(self, idx_cond: torch.Tensor) -> torch.Tensor:
        if 0 < self.cache.seq_len == idx_cond.shape[1] - 1:
            with self.split.single_torch_thread():  # un solo token: sus productos se reparten entre los hilos
                return self.model(idx_cond[:, -1:], cache=self.cache)
        self.cache.reset()  # la primera vez, o la ventana se ha desplazado: las posiciones cambian
        return self.model(idx_cond, cache=self.cache)


def _comprobar_cache(model, use_cache) -> None:
    """La caché KV solo la tiene GPTModelFast: con otro modelo, un TypeError que dice cómo convertirlo."""
    if use_cache and not isinstance(model, GPTModelFast):
        raise TypeError(
            f"La caché KV necesita un GPTModelFast y has pasado un {type(model).__name__}. Conviértelo con "
            "GPTModelFast.from_model(model) (mismos pesos) o usa use_cache=False."
        )


def generate_cached(
    model,
    idx,
    max_new_tokens: int,
    context_size: int | None = None,
    temperature: float = 0.0,
    top_k: int | None = None,
    eos_id: int | None = None,
    use_cache: bool = True,
    sliding_window: bool = False,
    split_gemv: bool = True,
    *,
    recortar: bool | None = None,
):
    """Genera `max_new_tokens` tokens tras `idx` (b, n) y devuelve (b, n + tokens generados), con caché KV.

    Los mismos argumentos, reglas y errores que `generate` de la sección 5 (es `generate` quien genera): temperature
    0 = voraz; top-k deja a -inf los logits fuera de los k mayores; con un solo texto, la generación se detiene en
    cuanto sale `eos_id`, que no se añade, y en un lote cada secuencia terminada solo añade `eos_id` como relleno
    hasta que terminan todas. Con `use_cache=True`, el texto inicial se procesa entero una vez y después cada paso
    pasa solo el token nuevo: las claves y los valores anteriores se leen de la caché.

    `context_size` (por defecto, el context_length del modelo) es la ventana. Con la caché, el texto inicial más los
    tokens nuevos no pueden pasar de ella: se lanza un ValueError antes de empezar. Con `sliding_window=True`, al
    llenarse la caché se recalcula la ventana con los últimos `context_size` tokens en cada paso (ventana
    deslizante, como `generate_text_simple`): los tokens son los mismos que sin caché, pero esos pasos ya no se
    aceleran, porque al desplazar la ventana cambia la posición de cada token y sus claves guardadas dejan de valer.
    `use_cache=False` es `generate` tal cual (sirve para comparar; vale con cualquier GPTModel).
    `recortar` es el nombre que tenía antes `sliding_window`, y se sigue admitiendo.

    En CPU y fp32, cada producto de un token se reparte entre los hilos de PyTorch (`GEMVSplit`, cpuTricks.py), salvo
    que PyTorch ya lo haga o que pases `split_gemv=False` (sirve para medir lo que aporta el reparto).
    """
    if recortar is not None:
        sliding_window = recortar
    _comprobar_cache(model, use_cache)
    window = check_generation_args(model, idx, max_new_tokens, context_size, temperature, top_k, eos_id)
    if not use_cache:
        return generate(model, idx, max_new_tokens, window, temperature, top_k, eos_id)
    total = idx.shape[1] + max_new_tokens
    if not sliding_window and total > window:
        raise ValueError(
            f"Con la caché KV, el texto inicial ({idx.shape[1]} tokens) más los tokens nuevos ({max_new_tokens}) "
            f"suman {total} y pasan de la ventana context_size={window}: a partir de ahí no hay embedding de "
            "posición para el token siguiente. Genera menos tokens, acorta el texto inicial (idx[:, -n:]) o usa "
            "sliding_window=True (ventana deslizante, como generate_text_simple)."
        )
    cache = KVCache(len(model.trf_blocks), max_len=min(window, total))
    hilos = split_threads(model, idx.device) if split_gemv else 1  # 1 hilo = sin reparto
    with GEMVSplit(model, hilos) as split:
        return generate(_PasoConCache(model, cache, split), idx, max_new_tokens, window, temperature, top_k, eos_id)
