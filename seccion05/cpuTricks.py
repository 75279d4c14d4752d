"""Dos trucos para la CPU que PyTorch 2.13 no hace solo; cada uno dice cuándo quitarlo.

Son lo menos convencional del curso y por eso viven aparte: nada del modelo depende de ellos, y quitarlos no cambia
ningún resultado, solo la velocidad.

- `GEMVSplit`: al generar con caché KV, cada paso procesa un solo token, y cada capa lineal calcula y = x·Wᵀ con
  una sola fila x, un producto matriz-vector (GEMV) cuyo límite es leer W de la memoria. PyTorch lo hace en un
  solo hilo, y un hilo solo no aprovecha todo el ancho de banda. `GEMVSplit` parte W por filas entre varios hilos.
  Medido con torch 2.13.0+cpu (MKL 2024.2) en una AMD EPYC de 2 núcleos con AVX-512: un GEMV de 3072 × 768 tarda
  lo mismo con 1 que con 2 hilos de PyTorch (120 µs), y la generación con caché del GPT de 124M pasa de 31.6 a 40
  tokens/s (×1.27) con el reparto. **Cuándo quitarlo:** cuando PyTorch reparta sus GEMV entre hilos. No hace falta
  esperar a saberlo: `gemv_scales_with_threads` lo mide una vez por proceso y, si el GEMV de PyTorch ya escala con
  los hilos, `split_threads` responde 1 y no se reparte nada.
  **Lo que aún lo frena**, medido en la misma máquina el 1 de diciembre de 2026: una suma lee la memoria a 45.1 GB/s
  con 2 hilos, pero el GEMV de PyTorch con la cabeza de salida (50 257 × 768) la lee a 17.3 GB/s (el 38 %) y, repartido
  en 2 hilos, a 27.1 GB/s (el 60 %). Las capas de los bloques son más pequeñas y cada reparto cuesta además unas
  decenas de microsegundos, así que la generación con caché se queda en torno al 40 % del límite del ancho de banda.
  Con los pesos guardados traspuestos en memoria, el mismo GEMV en 1 hilo lee a 28.3 GB/s; no se hace porque
  cambiaría la disposición de los parámetros que usa el entrenamiento.
- `reuse_freed_memory`: en Linux con glibc, hace que el proceso reutilice la memoria que libera en lugar de
  devolverla al sistema, y así se evitan cientos de miles de fallos de página por paso de entrenamiento del GPT de
  124M. **Cuándo quitarlo:** cuando PyTorch tenga en CPU un asignador que guarde los bloques grandes (en 2.13 no lo
  tiene; en GPU, sí: por eso allí no hace falta).

Se explica en: seccion05/6_rendimiento.ipynb
"""

from __future__ import annotations

import contextlib
import ctypes
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import torch
import torch.nn as nn
import torch.nn.functional as F

from seccion02_TrabajarDatosTexto.checkArgs import check_int

# Pesos con menos elementos no compensan el coste de repartir (768 × 768 = 589 824 sí; en el GPT de 124M, todos)
MIN_SPLIT_ELEMENTS = 2**18


class GEMVSplit:
    """Reparte entre `threads` hilos los productos de una sola fila de las capas lineales de `model`, en CPU.

    Así se usa (es lo que hace `generate_cached`):

        with GEMVSplit(model, threads) as split:       # cada nn.Linear grande pasa a ser una SplitLinear
            logits = model(idx, cache=cache)           # el prellenado: varias filas, PyTorch como siempre
            with split.single_torch_thread():          # un paso de un token: el reparto usa los hilos
                logits = model(idx_next, cache=cache)
        # al salir, el modelo vuelve a tener sus nn.Linear y los hilos auxiliares terminan

    Las `SplitLinear` comparten los `Parameter` de las capas que sustituyen (no se copia nada), así que el modelo
    calcula lo mismo. Solo se reparte en fp32 y sin gradientes (al generar): el autocast y el modo sin gradientes
    son de cada hilo. Con `threads=1`, no sustituye nada ni toca los hilos de PyTorch.
    """

    def __init__(self, model: nn.Module, threads: int):
        self.threads = check_int("threads", threads, minimum=1)
        self.model = model
        self._pool = None
        self._sustituidas = []  # (padre, nombre, nn.Linear original)

    def __enter__(self) -> GEMVSplit:
        if self.threads == 1:
            return self
        self._pool = ThreadPoolExecutor(self.threads - 1, thread_name_prefix="gemv")
        self._sustituidas = [
            (padre, nombre, hijo)
            for padre in self.model.modules()
            for nombre, hijo in padre.named_children()
            if type(hijo) is nn.Linear and hijo.weight.numel() >= MIN_SPLIT_ELEMENTS
        ]
        for padre, nombre, hijo in self._sustituidas:
            setattr(padre, nombre, SplitLinear(hijo, self))
        return self

    def __exit__(self, *exc) -> None:
        for padre, nombre, hijo in self._sustituidas:
            setattr(padre, nombre, hijo)  # las capas de siempre, otra vez
        self._sustituidas = []
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    @contextlib.contextmanager
    def single_torch_thread(self):
        """Dentro, PyTorch usa un solo hilo para sus propias operaciones (si hay reparto): si no, sus hilos de
        OpenMP se quedarían esperando activos y ocuparían los núcleos que necesita el reparto."""
        if self._pool is None:
            yield
            return
        antes = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(antes)

    def can_split(self, x: torch.Tensor, weight: torch.Tensor) -> bool:
        """True si conviene repartir x·Wᵀ: una sola fila, en CPU, fp32, sin gradientes ni autocast, y W grande."""
        return (
            self._pool is not None
            and x.numel() == x.shape[-1]
            and x.device.type == "cpu"
            and x.dtype == weight.dtype == torch.float32
            and not torch.is_grad_enabled()
            and not torch.is_autocast_enabled("cpu")
            and weight.numel() >= MIN_SPLIT_ELEMENTS
        )

    def linear(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        """F.linear(x, weight, bias) con las filas de `weight` repartidas entre los hilos: (..., in) -> (..., out).

        El hilo que llama se queda con un trozo 1,5 veces mayor que los demás: los auxiliares empiezan un poco más
        tarde, porque antes tienen que conseguir el GIL de Python (medido con el GPT de 124M y 2 hilos: 45 tokens/s
        así, 43 con trozos iguales).
        """
        filas = weight.shape[0]
        por_hilo = int(filas / (self.threads + 0.5))  # filas de cada hilo auxiliar
        tamanos = [filas - por_hilo * (self.threads - 1)] + [por_hilo] * (self.threads - 1)
        pesos = weight.split(tamanos)  # vistas, sin copiar
        sesgos = bias.split(tamanos) if bias is not None else [None] * self.threads
        futuros = [
            self._pool.submit(_linear_sin_gradientes, x, w, b) for w, b in zip(pesos[1:], sesgos[1:], strict=True)
        ]
        primero = F.linear(x, pesos[0], sesgos[0])  # el primer trozo, en este hilo
        return torch.cat([primero, *(f.result() for f in futuros)], dim=-1)


def _linear_sin_gradientes(x, weight, bias):
    with torch.no_grad():  # el modo sin gradientes es de cada hilo: el auxiliar no lo hereda
        return F.linear(x, weight, bias)


class SplitLinear(nn.Module):
    """Ocupa el sitio de un `nn.Linear` mientras dura un `GEMVSplit`: los mismos `weight` y `bias` (los mismos
    objetos `Parameter`), y el producto de una sola fila repartido entre los hilos. Entrada y salida como `nn.Linear`.
    """

    def __init__(self, linear: nn.Linear, split: GEMVSplit):
        super().__init__()
        self.weight = linear.weight  # el mismo Parameter: nada se copia
        self.register_parameter("bias", linear.bias)  # también si es None
        self.split = split

    def forward(self, x):
        if self.split.can_split(x, self.weight):
            return self.split.linear(x, self.weight, self.bias)
        return F.linear(x, self.weight, self.bias)


_ESCALA_GEMV: dict[int, bool] = {}  # por número de hilos: ¿reparte ya PyTorch sus GEMV?


def gemv_scales_with_threads(threads: int) -> bool:
    """True si PyTorch ya reparte entre `threads` hilos un producto matriz-vector en fp32 (entonces sobra
    `GEMVSplit`). Lo mide la primera vez para cada número de hilos (unos 50 ms) y guarda la respuesta.

    Mide el mejor de 5 intentos de 10 productos de una fila por una matriz de 4096 × 1024 (16 MiB), con 1 hilo y
    con `threads`: si con `threads` tarda menos de las tres cuartas partes, PyTorch ya reparte.
    """
    threads = check_int("threads", threads, minimum=1)
    if threads not in _ESCALA_GEMV:
        _ESCALA_GEMV[threads] = threads > 1 and _medir_escala_gemv(threads) < 0.75
    return _ESCALA_GEMV[threads]


def _medir_escala_gemv(threads: int) -> float:
    """Tiempo de un GEMV con `threads` hilos de PyTorch dividido entre el tiempo con 1 hilo (sin sortear números)."""
    peso, x = torch.ones(4096, 1024), torch.ones(1, 1024)
    antes = torch.get_num_threads()
    tiempos = {}
    try:
        with torch.no_grad():
            for hilos in (1, threads):
                torch.set_num_threads(hilos)
                F.linear(x, peso)  # calentamiento
                mejor = float("inf")
                for _ in range(5):
                    inicio = time.perf_counter()
                    for _ in range(10):
                        F.linear(x, peso)
                    mejor = min(mejor, time.perf_counter() - inicio)
                tiempos[hilos] = mejor
    finally:
        torch.set_num_threads(antes)
    return tiempos[threads] / tiempos[1]


def split_threads(model: nn.Module, device: torch.device | str) -> int:
    """Entre cuántos hilos conviene repartir los productos de un token al generar con `model` (un GPTModelFast) en
    `device`.

    Responde los hilos de PyTorch (`torch.get_num_threads()`) si el modelo calcula en fp32 en la CPU y el GEMV de
    PyTorch no escala ya con los hilos (`gemv_scales_with_threads`); 1 (no repartir) en el resto: en GPU, con
    pesos en bf16 o con autocast (ahí PyTorch ya usa todos los hilos en esos productos) o con un solo hilo.
    """
    hilos = torch.get_num_threads()
    device = torch.device(device)
    fp32_en_cpu = (
        device.type == "cpu" and model.out_head.weight.dtype == torch.float32 and model.dtype_autocast(device) is None
    )
    if hilos == 1 or not fp32_en_cpu or gemv_scales_with_threads(hilos):
        return 1
    return hilos


def reuse_freed_memory() -> bool:
    """Hace que el proceso reutilice la memoria que libera en lugar de devolverla al sistema (Linux con glibc).

    Cada paso de entrenamiento crea y libera tensores grandes: los logits (b, n, 50257), los gradientes, las copias
    en bf16 de los pesos... Por defecto, glibc pide al sistema cada bloque de más de 32 MiB y se lo devuelve al
    liberarlo; la vez siguiente, el sistema entrega páginas nuevas, y cada página de 4 KiB que se toca por primera
    vez cuesta un *fallo de página* (el sistema operativo la busca y la llena de ceros). Con el GPT de 124M son
    cientos de miles de fallos por paso. Tras esta llamada, glibc guarda lo liberado y lo reutiliza: no hay fallos
    de página después del primer paso.

    Afecta a todo el proceso y no se deshace; el precio es que el proceso conserva la memoria de su pico hasta que
    termina. Llámala una vez, al principio. Devuelve True si se ha aplicado y False donde no hay glibc (macOS,
    Windows, musl): allí no cambia nada.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # de la biblioteca de C ya cargada en el proceso
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_max = -1, -4  # constantes de <malloc.h>
    sin_mmap = mallopt(m_mmap_max, 0) == 1  # ningún bloque se pide aparte al sistema: todos salen del montón
    sin_recorte = mallopt(m_trim_threshold, 2**31 - 1) == 1  # no devuelve el final libre del montón (hasta 2 GiB)
    return sin_mmap and sin_recorte
