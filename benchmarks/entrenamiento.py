"""Benchmark de entrenamiento: tokens por segundo del curso, del camino rápido y del código de referencia del libro.

Entrena el GPT de 124M (lote 2, contexto 256, como en la sección 5) con cada variante, alternándolas en cada
vuelta, y da la mediana de tokens/s sin contar los 2 pasos de calentamiento. Las variantes con `reuse_freed_memory()`
cambian el asignador de memoria de todo el proceso, así que se miden en un segundo proceso (con sus propias copias
de los pesos y de los lotes), alternadas con las demás: cada vuelta mide una vez cada variante, y nunca dos a la vez.
Después entrena 20 pasos el camino didáctico (fp32) y el rápido desde los mismos pesos y con los mismos lotes de
«The Verdict», y compara la pérdida.

    python benchmarks/entrenamiento.py            # completo (unos minutos en una CPU de 2 núcleos)
    python benchmarks/entrenamiento.py --quick    # prueba corta con un modelo diminuto
    python benchmarks/entrenamiento.py --compilar # añade la variante con torch.compile (tarda en compilar)

La última línea es un objeto JSON con todas las cifras.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import time
from typing import NamedTuple

import comun
import torch

from seccion02_TrabajarDatosTexto.dataloader_v1 import create_dataloader_v1
from seccion02_TrabajarDatosTexto.theVerdict import load_the_verdict
from seccion04_ImplementacionGPTGeneracionTexto.gptConfig124M import GPT_CONFIG_124M
from seccion04_ImplementacionGPTGeneracionTexto.gptModel import GPTModel
from seccion05.calcLoss import calc_loss_batch, calc_loss_loader
from seccion05.cpuTricks import reuse_freed_memory
from seccion05.fastAdamW import fast_adamw
from seccion05.gptModelFast import GPTModelFast

BATCH_SIZE = 2

class Variante(NamedTuple):
    """Qué lleva cada variante de entrenamiento. Cada variante rápida añade una cosa a la anterior."""

    descripcion: str
    modelo: str  # "referencia" (el paquete del libro), "curso" (GPTModel) o "rapido" (GPTModelFast)
    precision: str | None = None  # del GPTModelFast: "fp32" o "auto"
    dropout: str | None = None  # del GPTModelFast: "torch" o "fast"
    optimizador: str = "adamw"  # "adamw" (torch.optim.AdamW) o "rapido" (fast_adamw)
    autocast_fuera: bool = False  # autocast bf16 por fuera del modelo (la referencia no lo trae dentro)
    compilar: bool = False  # model.compile()
    memoria: bool = False  # se mide en el segundo proceso, con reuse_freed_memory()


VARIANTES = {
    "referencia_fp32": Variante("referencia: GPTModel del libro, fp32, AdamW", "referencia"),
    "referencia_bf16": Variante("referencia con autocast bf16", "referencia", autocast_fuera=True),
    "curso_fp32": Variante("curso: GPTModel (sección 4), fp32, AdamW", "curso"),
    "rapido_piezas": Variante("+ piezas fusionadas (SDPA, LayerNorm, GELU)", "rapido", "fp32", "torch"),
    "rapido_adamw": Variante("+ AdamW fusionado (fast_adamw)", "rapido", "fp32", "torch", "rapido"),
    "rapido_auto": Variante('+ precision="auto" (autocast bf16)', "rapido", "auto", "torch", "rapido"),
    "rapido_dropout": Variante('+ dropout="fast" (máscaras baratas)', "rapido", "auto", "fast", "rapido"),
    "rapido_memoria": Variante("+ reuse_freed_memory()", "rapido", "auto", "fast", "rapido", memoria=True),
    "rapido_compile": Variante("+ torch.compile (model.compile())", "rapido", "auto", "fast", "rapido",
                               compilar=True, memoria=True),
    # Controles: la referencia con el mismo asignador que rapido_memoria, para ver cuánto debe a él
    "referencia_fp32_memoria": Variante("control: referencia fp32 + reuse_freed_memory()", "referencia", memoria=True),
    "referencia_bf16_memoria": Variante("control: referencia bf16 + reuse_freed_memory()", "referencia",
                                        autocast_fuera=True, memoria=True),
}


def construir(variante: str, cfg: dict, estado: dict, device: torch.device):
    """Modelo y optimizador de una variante, con una copia de los pesos iniciales `estado`."""
    elegida = VARIANTES[variante]
    with torch.device("meta"):  # sin inicializar pesos: se cargan a continuación
        if elegida.modelo == "referencia":
            from llms_from_scratch.ch04 import GPTModel as GPTModelReferencia

            model = GPTModelReferencia(cfg)
        elif elegida.modelo == "curso":
            model = GPTModel(cfg)
        else:
            model = GPTModelFast(cfg, precision=elegida.precision, dropout=elegida.dropout)
    model.load_state_dict({k: v.clone() for k, v in estado.items()}, assign=True)
    model.to(device).train()
    if elegida.compilar:
        model.compile()
    if elegida.optimizador == "adamw":
        opt = torch.optim.AdamW(model.parameters(), lr=0.0004, weight_decay=0.1)
    else:
        opt = fast_adamw(model.parameters(), lr=0.0004, weight_decay=0.1)
    return model, opt


def preparar(quick: bool) -> tuple[dict, list, dict]:
    """La configuración, los lotes de «The Verdict» y los pesos iniciales (semilla 123), iguales en los dos procesos."""
    cfg = comun.CFG_QUICK if quick else {**GPT_CONFIG_124M, "context_length": 256}
    torch.manual_seed(123)
    lotes = list(
        create_dataloader_v1(load_the_verdict(), batch_size=BATCH_SIZE, max_length=cfg["context_length"],
                             stride=cfg["context_length"], shuffle=False, drop_last=True)
    )
    return cfg, lotes, GPTModel(cfg).state_dict()


def medir_variante(variante: str, cfg: dict, estado: dict, lotes: list, pasos: int, device: torch.device) -> dict:
    """Tokens/s de `pasos` pasos de entrenamiento de una variante, tras 2 pasos de calentamiento que no se cuentan.

    El primero reserva los gradientes y los estados de AdamW; en el segundo, el asignador todavía pide memoria nueva
    (medido con reuse_freed_memory() y el GPT de 124M: 535 379 fallos de página en el primer paso, 100 516 en el
    segundo y ninguno desde el tercero), así que un solo paso de calentamiento haría parecer lenta esa variante."""
    model, opt = construir(variante, cfg, estado, device)
    for lote in lotes[:2]:  # calentamiento: reserva gradientes y estados de AdamW, y asienta el asignador
        paso(variante, model, opt, lote, device)
    tiempo, _ = comun.cronometrar(
        lambda: [paso(variante, model, opt, lotes[(i + 2) % len(lotes)], device) for i in range(pasos)], device
    )
    return {"tokens_s": pasos * BATCH_SIZE * cfg["context_length"] / tiempo}


def trabajador(conexion, quick: bool, device_nombre: str | None, hilos: int | None) -> None:
    """El segundo proceso: activa reuse_freed_memory() y mide las variantes que le pide el proceso principal."""
    aplicada = reuse_freed_memory()
    comun.importar_referencia()
    device = comun.dispositivo(device_nombre, hilos)
    cfg, lotes, estado = preparar(quick)
    conexion.send(aplicada)
    liberar = getattr(ctypes.CDLL(None), "malloc_trim", None) if aplicada else None
    while (orden := conexion.recv()) is not None:
        variante, pasos = orden
        conexion.send(medir_variante(variante, cfg, estado, lotes, pasos, device))
        if liberar is not None:
            # Devuelve al sistema lo que el asignador guardaba, para no ocupar la memoria que necesita el proceso
            # principal mientras mide (la siguiente variante la recupera en sus pasos de calentamiento, que no se miden)
            liberar(0)


def paso(variante: str, model, opt, lote, device: torch.device) -> float:
    """Un paso de entrenamiento como el de train_model_simple; devuelve la pérdida del lote."""
    contexto = (torch.autocast(device.type, dtype=torch.bfloat16) if VARIANTES[variante].autocast_fuera
                else contextlib.nullcontext())
    opt.zero_grad()
    with contexto:
        loss = calc_loss_batch(*lote, model, device)
    loss.backward()
    opt.step()
    return loss.item()


def flops_por_paso(model, cfg: dict, tokens: int) -> float:
    """≈ 6·N·tokens (N: pesos que entran en productos de matrices) + atención (12·capas·T·d por token)."""
    n_matmul = sum(m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Linear))
    atencion = 12 * cfg["n_layers"] * cfg["context_length"] * cfg["emb_dim"]
    return tokens * (6 * n_matmul + atencion)


def main() -> None:
    p = comun.parser(__doc__)
    p.add_argument("--pasos", type=int, default=None, help="pasos medidos por vuelta (3; 1 con --quick)")
    p.add_argument("--pasos-perdida", type=int, default=None, help="pasos de la comparación de pérdidas (20)")
    p.add_argument("--compilar", action="store_true", help="añade la variante con torch.compile")
    args = p.parse_args()
    comun.importar_referencia()
    device = comun.dispositivo(args.device, args.hilos)

    repeticiones = args.repeticiones or (1 if args.quick else 3)
    pasos = args.pasos or (1 if args.quick else 3)
    pasos_perdida = args.pasos_perdida or (3 if args.quick else 20)
    bf16 = comun.bf16_accelerated(device)
    variantes = [v for v in VARIANTES
                 if (bf16 or "bf16" not in v) and (args.compilar or v != "rapido_compile")]

    info = comun.entorno(device)
    print(comun.cabecera("Entrenamiento", info))

    cfg, lotes, estado = preparar(args.quick)
    batch_size = BATCH_SIZE
    tokens_por_paso = batch_size * cfg["context_length"]

    # El segundo proceso, para las variantes con reuse_freed_memory() ("spawn": un intérprete nuevo, sin heredar nada)
    contexto_mp = multiprocessing.get_context("spawn")
    conexion, conexion_hijo = contexto_mp.Pipe()
    proceso = contexto_mp.Process(target=trabajador, args=(conexion_hijo, args.quick, args.device, args.hilos))
    proceso.start()
    info["reutilizar_memoria_aplicada"] = conexion.recv()
    if not info["reutilizar_memoria_aplicada"]:
        print("Aviso: reuse_freed_memory() no se aplica en este sistema (no es Linux con glibc); las variantes "
              "«+ reuse_freed_memory()» se miden igual, con el asignador de siempre.")

    def medir(variante: str) -> dict:
        if variante == "pico":
            return {"fp32": comun.pico_matmul(torch.float32, device), "bf16": comun.pico_matmul(torch.bfloat16, device)}
        if VARIANTES[variante].memoria:  # en el proceso con reuse_freed_memory()
            conexion.send((variante, pasos))
            return conexion.recv()
        return medir_variante(variante, cfg, estado, lotes, pasos, device)

    print(f"Velocidad: {repeticiones} vueltas alternadas × {pasos} pasos medidos (más 2 de calentamiento) por variante")
    try:
        vueltas = comun.alternar(["pico", *variantes], repeticiones, medir)
    finally:
        conexion.send(None)  # el segundo proceso termina
        proceso.join()
    pico = {d: max(v[d] for v in vueltas["pico"]) for d in ("fp32", "bf16")}  # el límite: la mejor de todas las vueltas
    flops = flops_por_paso(GPTModel(cfg), cfg, tokens_por_paso)

    resultados = {}
    for v in variantes:
        tokens_s = comun.mediana(x["tokens_s"] for x in vueltas[v])
        gflops = flops / (tokens_por_paso / tokens_s) / 1e9
        en_bf16 = VARIANTES[v].autocast_fuera or (VARIANTES[v].precision == "auto" and bf16)
        resultados[v] = {
            "tokens_s": round(tokens_s, 1),
            "tokens_s_vueltas": [round(x["tokens_s"], 1) for x in vueltas[v]],
            # cociente frente a la referencia fp32 medida en la misma vuelta (resiste mejor los cambios de carga)
            "vs_referencia_fp32": round(comun.mediana(
                x["tokens_s"] / r["tokens_s"] for x, r in zip(vueltas[v], vueltas["referencia_fp32"], strict=True)), 3),
            "gflops": round(gflops, 1),
            "dtype_calculo": "bf16" if en_bf16 else "fp32",
            "fraccion_pico": round(gflops / pico["bf16" if en_bf16 else "fp32"], 3),
        }
    filas = [
        [VARIANTES[v].descripcion, f"{r['tokens_s']:.1f}", f"{r['vs_referencia_fp32']:.2f}×", f"{r['gflops']:.0f}",
         f"{100 * r['fraccion_pico']:.0f} % ({r['dtype_calculo']})"]
        for v, r in resultados.items()
    ]
    print()
    print(comun.tabla(["Variante", "tokens/s", "× ref. fp32", "GFLOP/s", "% del pico"], filas))
    print("tokens/s: mediana de las vueltas; × ref. fp32: mediana de los cocientes de cada vuelta. Las variantes "
          "con reuse_freed_memory() se miden en un segundo proceso.")
    print(f"Pico medido en esta ejecución (matmul 2048³, la mejor de {5 * repeticiones} ráfagas): fp32 "
          f"{pico['fp32']:.0f} GFLOP/s, bf16 {pico['bf16']:.0f} GFLOP/s. "
          f"FLOP por paso ≈ {flops / 1e9:.0f} G (6·N·tokens + atención).")

    # --- Pérdida tras `pasos_perdida` pasos: didáctico fp32 frente al camino rápido completo -----------------------
    rapido = "rapido_dropout"  # todas las cuentas del camino rápido (reutilizar_memoria y compile no las cambian)
    perdida = {}
    for v in ("curso_fp32", rapido):
        model, opt = construir(v, cfg, estado, device)
        torch.manual_seed(123)  # mismo punto de partida del generador de números aleatorios (dropout)
        inicio = time.perf_counter()
        for i in range(pasos_perdida):
            ultima = paso(v, model, opt, lotes[i % len(lotes)], device)
        segundos = time.perf_counter() - inicio
        model.eval()
        with torch.no_grad():
            media = calc_loss_loader(lotes, model, device)
        perdida[v] = {"perdida_ultimo_paso": round(ultima, 4), "perdida_media_lotes": round(media, 4),
                      "segundos": round(segundos, 1)}
        del model, opt
    diferencia = perdida[rapido]["perdida_media_lotes"] / perdida["curso_fp32"]["perdida_media_lotes"] - 1
    print()
    print(f"Pérdida tras {pasos_perdida} pasos con los mismos lotes de «The Verdict» (media de los {len(lotes)} lotes, "
          "modo evaluación; cada camino con su precisión):")
    print(comun.tabla(
        ["Camino", f"pérdida del paso {pasos_perdida}", "pérdida media", "segundos"],
        [[VARIANTES[v].descripcion, f"{r['perdida_ultimo_paso']:.4f}", f"{r['perdida_media_lotes']:.4f}", f"{r['segundos']:.1f}"]
         for v, r in perdida.items()],
    ))
    print(f"Diferencia relativa de la pérdida media: {100 * diferencia:+.2f} % (objetivo: dentro de ±2 %)")

    mejor = max((v for v in resultados if v.startswith("rapido_")), key=lambda v: resultados[v]["vs_referencia_fp32"])
    mismo_asignador = {  # el camino rápido frente a la referencia con el mismo asignador, en la misma vuelta
        f"{v}_vs_referencia_{d}_memoria": round(comun.mediana(
            x["tokens_s"] / r["tokens_s"]
            for x, r in zip(vueltas[v], vueltas[f"referencia_{d}_memoria"], strict=True)), 3)
        for v in ("rapido_memoria",) for d in ("fp32", "bf16") if f"referencia_{d}_memoria" in vueltas
    }
    cifras = {
        "benchmark": "entrenamiento",
        "quick": args.quick,
        "entorno": info,
        "carga_fin": comun.cargas(),
        "config": {**cfg, "batch_size": batch_size, "repeticiones": repeticiones, "pasos": pasos},
        "pico_gflops": {k: round(v, 1) for k, v in pico.items()},
        "pico_gflops_vueltas": {d: [round(v[d], 1) for v in vueltas["pico"]] for d in ("fp32", "bf16")},
        "flops_por_paso": flops,
        "variantes": resultados,
        "perdida": {"pasos": pasos_perdida, **perdida, "diferencia_relativa": round(diferencia, 5)},
        "objetivos": {
            "rapido_vs_referencia_fp32": resultados[mejor]["vs_referencia_fp32"],
            "mejor_rapido": mejor,
            "mejor_rapido_fraccion_pico": resultados[mejor]["fraccion_pico"],
            "curso_fp32_vs_referencia_fp32": resultados["curso_fp32"]["vs_referencia_fp32"],
            **mismo_asignador,
            "perdida_dentro_del_2_por_ciento": abs(diferencia) <= 0.02,
        },
    }
    for clave, cociente in mismo_asignador.items():
        print(f"Con el mismo asignador ({clave}): {cociente:.2f}×")
    print(f"Carga al terminar: {cifras['carga_fin']}")
    comun.imprimir_json(cifras, args.guardar)


if __name__ == "__main__":
    main()
