"""Benchmark de memoria: pico de memoria al entrenar y al generar, del curso, del camino rápido y de la referencia.

Cada variante se ejecuta en un proceso nuevo (la memoria máxima de un proceso no se puede «devolver», así que
medir varias en el mismo proceso mezclaría sus picos). En cada proceso se construye el modelo, se anota la
memoria residente (RSS) y después se mide el pico durante el trabajo: 2 pasos de entrenamiento (lote 2,
contexto 256) o 200 tokens generados. En GPU se usa `torch.cuda.max_memory_allocated`.

    python benchmarks/memoria.py           # completo (unos minutos en una CPU de 2 núcleos)
    python benchmarks/memoria.py --quick   # prueba corta con un modelo diminuto

La última línea es un objeto JSON con todas las cifras.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path

import comun
import entrenamiento
import generacion
import torch

from seccion02_TrabajarDatosTexto.tokenizerGPT2 import get_tokenizer
from seccion04_ImplementacionGPTGeneracionTexto.gptConfig124M import GPT_CONFIG_124M
from seccion04_ImplementacionGPTGeneracionTexto.gptModel import GPTModel
from seccion05.cpuTricks import reuse_freed_memory

MIB = 2**20

ENTRENAMIENTO = ["referencia_fp32", "referencia_bf16", "curso_fp32", "rapido_adamw", "rapido_auto", "rapido_dropout",
                 "rapido_memoria"]
GENERACION = ["curso_sin_cache", "rapido_cache", "rapido_cache_bf16"]


def _leer_status(campo: str) -> float | None:
    """Un campo de /proc/self/status en MiB (Linux); None si no existe."""
    try:
        with open("/proc/self/status", encoding="utf-8") as f:
            for linea in f:
                if linea.startswith(campo + ":"):
                    return int(linea.split()[1]) * 1024 / MIB
    except OSError:
        pass
    return None


def _reiniciar_pico() -> bool:
    """Pone el pico de RSS (VmHWM) al valor actual; solo en Linux. Devuelve si se pudo."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="utf-8") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _pico_rss() -> float:
    pico = _leer_status("VmHWM")
    if pico is not None:
        return pico
    maximo = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB en Linux, bytes en macOS
    return maximo / MIB if sys.platform == "darwin" else maximo * 1024 / MIB


def hijo(tipo: str, variante: str, quick: bool, device_nombre: str | None) -> dict:
    """Se ejecuta en el proceso nuevo: construye, mide la base, hace el trabajo y devuelve las cifras."""
    if tipo == "entrenamiento" and entrenamiento.VARIANTES[variante].memoria:
        reuse_freed_memory()  # antes de reservar nada: el pico incluye lo que el asignador se queda
    comun.importar_referencia()
    device = comun.dispositivo(device_nombre)
    if tipo == "entrenamiento":
        cfg = comun.CFG_QUICK if quick else {**GPT_CONFIG_124M, "context_length": 256}
        torch.manual_seed(123)
        estado = GPTModel(cfg).state_dict()
        model, opt = entrenamiento.construir(variante, cfg, estado, device)
        del estado
        torch.manual_seed(123)
        lote = (torch.randint(0, cfg["vocab_size"], (2, cfg["context_length"])),) * 2

        def trabajo():
            for _ in range(2):
                entrenamiento.paso(variante, model, opt, lote, device)
    else:
        cfg = comun.CFG_QUICK if quick else GPT_CONFIG_124M
        n = 20 if quick else 200
        modelos = generacion.construir_modelos(cfg, device)
        necesario = {"curso_sin_cache": "curso", "rapido_cache": "rapido", "rapido_cache_bf16": "rapido_bf16"}
        modelos = {k: v for k, v in modelos.items() if k == necesario[variante]}  # libera el resto
        idx = torch.tensor([get_tokenizer().encode("Hello, I am")], device=device)

        def trabajo():
            generacion.generar(variante, modelos, idx, n, cfg["context_length"])

    if device.type == "cuda":
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated() / MIB
        torch.cuda.reset_peak_memory_stats()
        trabajo()
        torch.cuda.synchronize()
        return {"base_mib": round(base, 1), "pico_mib": round(torch.cuda.max_memory_allocated() / MIB, 1),
                "medida": "torch.cuda.max_memory_allocated"}
    base = _leer_status("VmRSS") or _pico_rss()
    reiniciado = _reiniciar_pico()
    trabajo()
    return {"base_mib": round(base, 1), "pico_mib": round(_pico_rss(), 1),
            "medida": "VmHWM (pico reiniciado tras construir)" if reiniciado else "ru_maxrss (pico del proceso)"}


def main() -> None:
    p = comun.parser(__doc__)
    p.add_argument("--hijo", nargs=2, metavar=("TIPO", "VARIANTE"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.hijo:
        comun.dispositivo(args.device, args.hilos)
        print(json.dumps(hijo(*args.hijo, args.quick, args.device)))
        return
    comun.importar_referencia()
    device = comun.dispositivo(args.device, args.hilos)
    info = comun.entorno(device)
    print(comun.cabecera("Memoria", info))

    bf16 = comun.bf16_accelerated(device)
    trabajos = [("entrenamiento", v) for v in ENTRENAMIENTO if bf16 or v != "referencia_bf16"]
    trabajos += [("generacion", v) for v in GENERACION]
    resultados = {}
    for tipo, variante in trabajos:
        orden = [sys.executable, str(Path(__file__).resolve()), "--hijo", tipo, variante]
        orden += ["--quick"] * args.quick + (["--device", args.device] if args.device else [])
        orden += ["--hilos", str(args.hilos)] if args.hilos else []
        salida = subprocess.run(orden, capture_output=True, text=True, check=False)
        if salida.returncode != 0:
            resultados[f"{tipo}/{variante}"] = {"error": salida.stderr.strip().splitlines()[-1]}
        else:
            cifras = json.loads(salida.stdout.strip().splitlines()[-1])
            cifras["incremento_mib"] = round(cifras["pico_mib"] - cifras["base_mib"], 1)
            resultados[f"{tipo}/{variante}"] = cifras
        print(f"  {tipo}/{variante}: {comun.resumen(resultados[f'{tipo}/{variante}'])}", flush=True)

    descripciones = {**{f"entrenamiento/{k}": v.descripcion for k, v in entrenamiento.VARIANTES.items()},
                     **{f"generacion/{k}": v for k, v in generacion.VARIANTES.items()}}
    filas = [
        [descripciones[k], "error", "—", "—"] if "error" in r else
        [descripciones[k], f"{r['base_mib']:.0f}", f"{r['pico_mib']:.0f}", f"{r['incremento_mib']:.0f}"]
        for k, r in resultados.items()
    ]
    print()
    print(comun.tabla(["Variante", "tras construir (MiB)", "pico (MiB)", "pico − base (MiB)"], filas))
    cifras = {"benchmark": "memoria", "quick": args.quick, "entorno": info, "carga_fin": comun.cargas(),
              "variantes": resultados}
    print(f"Carga al terminar: {cifras['carga_fin']}")
    comun.imprimir_json(cifras, args.guardar)


if __name__ == "__main__":
    main()
