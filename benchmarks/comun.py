"""Piezas comunes de los benchmarks: entorno, carga de la máquina, repeticiones alternadas, tablas y JSON.

Los scripts de esta carpeta comparan el código del curso con el paquete de referencia del libro
(`pip install --no-deps llms-from-scratch`) en la misma ejecución. Ver benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

RAIZ = Path(__file__).resolve().parent.parent
if str(RAIZ) not in sys.path:
    sys.path.insert(0, str(RAIZ))

import torch  # noqa: E402

from seccion04_ImplementacionGPTGeneracionTexto.getDevice import get_device  # noqa: E402
from seccion05.bf16Support import bf16_accelerated  # noqa: E402

# El GPT diminuto de --quick (las mismas claves que GPT_CONFIG_124M): comprueba que todo funciona, no mide nada serio
CFG_QUICK = {
    "vocab_size": 50257,  # el vocabulario de GPT-2
    "context_length": 64,  # longitud de contexto
    "emb_dim": 64,  # dimensión de los embeddings
    "n_heads": 4,  # cabezas de atención
    "n_layers": 2,  # bloques transformer
    "drop_rate": 0.1,  # tasa de dropout
    "qkv_bias": False,  # sin sesgo en consulta, clave y valor
}


def importar_referencia():
    """Importa el paquete de referencia del libro o termina con instrucciones para instalarlo."""
    try:
        import llms_from_scratch  # noqa: F401
    except ImportError:
        raise SystemExit(
            "Falta el paquete de referencia del libro. Instálalo solo para los benchmarks (sin dependencias, "
            "para no cambiar tu PyTorch):\n    pip install --no-deps llms-from-scratch"
        ) from None
    import llms_from_scratch

    return llms_from_scratch


def parser(descripcion: str) -> argparse.ArgumentParser:
    """Argumentos comunes: --quick, --repeticiones y --device."""
    p = argparse.ArgumentParser(description=descripcion, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="prueba corta con un modelo diminuto (comprueba que todo funciona)")
    p.add_argument("--repeticiones", type=int, default=None, help="vueltas alternadas por variante (se informa la mediana)")
    p.add_argument("--device", default=None, help="cpu, cuda o mps (por defecto, el de get_device())")
    p.add_argument("--hilos", type=int, default=None,
                   help="hilos de PyTorch en CPU (torch.set_num_threads); por defecto, los que elige PyTorch")
    p.add_argument("--guardar", type=Path, default=None, metavar="RUTA",
                   help="guarda también el JSON final en RUTA (p. ej. benchmarks/resultados/entrenamiento.json)")
    return p


def cabecera(titulo: str, info: dict) -> str:
    """La primera línea de cada script: qué se mide, dónde y con qué versiones."""
    hilos = info["hilos_torch"]
    return (f"{titulo} · {info['cpu']} ({info['nucleos']} núcleos, {hilos} hilo{'s' if hilos != 1 else ''}) · "
            f"{info['device']} · torch {info['torch']} · llms-from-scratch {info['llms_from_scratch']} · "
            f"carga {info['carga_inicio']}")


def dispositivo(nombre: str | None, hilos: int | None = None) -> torch.device:
    """El dispositivo en el que medir (y, si se pide, el número de hilos de la CPU)."""
    if hilos is not None:
        if hilos < 1:
            raise SystemExit(f"--hilos debe ser un entero mayor que 0; has pasado {hilos}.")
        torch.set_num_threads(hilos)
    return get_device(nombre)


def sincronizar(device: torch.device) -> None:
    """Espera a que la GPU termine (en CPU no hace nada), para medir tiempos de verdad."""
    if device.type == "cuda":
        torch.cuda.synchronize()
    elif device.type == "mps":
        torch.mps.synchronize()


def cargas() -> list[float]:
    """Cargas medias de la máquina (1, 5 y 15 minutos), como `uptime`; [] si el sistema no las da."""
    try:
        return [round(c, 2) for c in os.getloadavg()]
    except (AttributeError, OSError):
        return []


def modelo_cpu() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for linea in f:
                if linea.startswith("model name"):
                    return linea.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def version_referencia() -> str | None:
    try:
        return importlib.metadata.version("llms-from-scratch")
    except importlib.metadata.PackageNotFoundError:
        return None


def entorno(device: torch.device) -> dict:
    """Lo que hace falta para interpretar las cifras: hardware, versiones, hilos y carga."""
    info = {
        "cpu": modelo_cpu(),
        "nucleos": os.cpu_count(),
        "hilos_torch": torch.get_num_threads(),
        "capacidad_cpu": torch.backends.cpu.get_cpu_capability(),
        "torch": torch.__version__,
        "llms_from_scratch": version_referencia(),
        "device": str(device),
        "bf16_acelerado": bf16_accelerated(device),
        "carga_inicio": cargas(),
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def alternar(variantes: list[str], repeticiones: int, medir: Callable[[str], dict]) -> dict[str, list[dict]]:
    """Mide cada variante `repeticiones` veces alternándolas (el orden rota en cada vuelta), para que la carga
    cambiante de la máquina afecte a todas por igual. `medir(variante)` devuelve un diccionario de cifras."""
    resultados = {v: [] for v in variantes}
    for r in range(repeticiones):
        k = r % len(variantes)
        for v in variantes[k:] + variantes[:k]:
            resultados[v].append(medir(v))
            print(f"  vuelta {r + 1}/{repeticiones} · {v}: {resumen(resultados[v][-1])}", flush=True)
    return resultados


def resumen(cifras: dict) -> str:
    return ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in cifras.items())


def mediana(valores) -> float:
    return float(statistics.median(valores))


def cronometrar(funcion: Callable[[], object], device: torch.device) -> tuple[float, object]:
    """Segundos que tarda `funcion()` (esperando a la GPU si la hay) y lo que devuelve."""
    sincronizar(device)
    inicio = time.perf_counter()
    salida = funcion()
    sincronizar(device)
    return time.perf_counter() - inicio, salida


def mejor_rafaga(funcion: Callable[[], object], device: torch.device, rafagas: int = 5, veces: int = 3) -> float:
    """Segundos por llamada de `funcion()` en la mejor de `rafagas` ráfagas cortas de `veces` llamadas seguidas.

    Para medir un **límite** de la máquina (el pico de cálculo, el ancho de banda) se toma la mejor ráfaga, no la
    mediana: lo que la aleja del límite es ruido (otros programas, la frecuencia de la CPU que sube y baja), y la
    mejor ráfaga es la que menos ruido tuvo. Los tiempos de las variantes, en cambio, se dan con la mediana."""
    funcion()  # calentamiento
    sincronizar(device)
    return min(cronometrar(lambda: [funcion() for _ in range(veces)], device)[0] for _ in range(rafagas)) / veces


def pico_matmul(dtype: torch.dtype, device: torch.device, n: int = 2048) -> float:
    """GFLOP/s de un producto de matrices n×n×n en `dtype` (la mejor de 5 ráfagas): el techo práctico de cálculo."""
    a = torch.randn(n, n, device=device).to(dtype)
    b = torch.randn(n, n, device=device).to(dtype)
    return 2 * n**3 / mejor_rafaga(lambda: a @ b, device) / 1e9


def ancho_de_banda(device: torch.device, mib: int = 512) -> float:
    """GB/s al leer un tensor de `mib` MiB (una suma: solo lectura, mucho mayor que las cachés de la CPU), en la
    mejor de 5 ráfagas: el techo práctico de la memoria."""
    x = torch.ones(mib * 2**20 // 4, device=device)
    return x.numel() * 4 / mejor_rafaga(x.sum, device) / 1e9


def tabla(columnas: list[str], filas: list[list]) -> str:
    """Tabla de texto con columnas alineadas (en formato Markdown, para pegarla en un README)."""
    textos = [[str(c) for c in fila] for fila in [columnas, *filas]]
    anchos = [max(len(f[i]) for f in textos) for i in range(len(columnas))]

    def linea(fila):
        return "| " + " | ".join(c.ljust(a) if i == 0 else c.rjust(a) for i, (c, a) in enumerate(zip(fila, anchos, strict=True))) + " |"

    separador = "|" + "|".join(("-" * (a + 1) + ("-" if i == 0 else ":")) for i, a in enumerate(anchos)) + "|"
    return "\n".join([linea(textos[0]), separador, *(linea(f) for f in textos[1:])])


def imprimir_json(cifras: dict, ruta: Path | None = None) -> None:
    """La última línea de cada script: un objeto JSON con todas las cifras (fácil de guardar y comparar).
    Con `ruta`, lo guarda también en ese archivo."""
    linea = json.dumps(cifras, ensure_ascii=False, separators=(",", ":"))
    if ruta is not None:
        ruta.parent.mkdir(parents=True, exist_ok=True)
        ruta.write_text(linea + "\n", encoding="utf-8")
    print(linea, flush=True)
