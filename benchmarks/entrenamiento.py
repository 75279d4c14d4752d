"""Benchmark de entrenamiento: tokens por segundo del curso, del camino rápido y del código de referencia del libro.

Entrena el GPT de 124M (lote 2, contexto 256, como en la sección 5) con cada variante, alternándolas en cada
vuelta, y da la mediana de tokens/s sin contar el paso de calentamiento. Después entrena 20 pasos el camino
didáctico (fp32) y el rápido desde los mismos pesos y con los mismos lotes de «The Verdict», y compara la pérdida.

    python benchmarks/entrenamiento.py            # completo (unos minutos en una CPU de 2 núcleos)
    python benchmarks/entrenamiento.py --quick    # prueba corta con un modelo diminuto
    python benchmarks/entrenamiento.py --compilar # añade la variante con torch.compile (tarda en compilar)

La última línea es un objeto JSON con todas las cifras.
"""

from __future__ import annotations

import contextlib
import time

import comun
import torch

from seccion02_TrabajarDatosTexto.dataloader_v1 import create_dataloader_v1
from seccion02_TrabajarDatosTexto.theVerdict import load_the_verdict
from seccion04_ImplementacionGPTGeneracionTexto.gptConfig124M import GPT_CONFIG_124M
from seccion04_ImplementacionGPTGeneracionTexto.gptModel import GPTModel
from seccion05.calcLoss import calc_loss_batch, calc_loss_loader
from seccion05.gptModelRapido import GPTModelRapido, adamw_rapido

CFG_QUICK = {
    "vocab_size": 50257,
    "context_length": 64,
    "emb_dim": 64,
    "n_heads": 4,
    "n_layers": 2,
    "drop_rate": 0.1,
    "qkv_bias": False,
}

# Qué lleva cada variante: (descripción, modelo, optimizador, autocast bf16 por fuera del modelo)
VARIANTES = {
    "referencia_fp32": ("referencia: GPTModel del libro, fp32, AdamW", "referencia", "adamw", False),
    "referencia_bf16": ("referencia con autocast bf16", "referencia", "adamw", True),
    "curso_fp32": ("curso: GPTModel (sección 4), fp32, AdamW", "curso", "adamw", False),
    "rapido_piezas": ("+ piezas fusionadas (SDPA, LayerNorm, GELU)", "rapido_fp32", "adamw", False),
    "rapido_adamw": ("+ AdamW fusionado (adamw_rapido)", "rapido_fp32", "rapido", False),
    "rapido_auto": ('+ precision="auto" (autocast bf16)', "rapido_auto", "rapido", False),
    "rapido_compile": ("+ torch.compile (model.compile())", "rapido_auto", "rapido", False),
}


def construir(variante: str, cfg: dict, estado: dict, device: torch.device):
    """Modelo y optimizador de una variante, con una copia de los pesos iniciales `estado`."""
    _, tipo, optimizador, _ = VARIANTES[variante]
    with torch.device("meta"):  # sin inicializar pesos: se cargan a continuación
        if tipo == "referencia":
            from llms_from_scratch.ch04 import GPTModel as GPTModelReferencia

            model = GPTModelReferencia(cfg)
        elif tipo == "curso":
            model = GPTModel(cfg)
        else:
            model = GPTModelRapido(cfg, precision="auto" if tipo == "rapido_auto" else "fp32")
    model.load_state_dict({k: v.clone() for k, v in estado.items()}, assign=True)
    model.to(device).train()
    if variante == "rapido_compile":
        model.compile()
    if optimizador == "adamw":
        opt = torch.optim.AdamW(model.parameters(), lr=0.0004, weight_decay=0.1)
    else:
        opt = adamw_rapido(model.parameters(), lr=0.0004, weight_decay=0.1)
    return model, opt


def paso(variante: str, model, opt, lote, device: torch.device) -> float:
    """Un paso de entrenamiento como el de train_model_simple; devuelve la pérdida del lote."""
    autocast_fuera = VARIANTES[variante][3]
    contexto = torch.autocast(device.type, dtype=torch.bfloat16) if autocast_fuera else contextlib.nullcontext()
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

    cfg = CFG_QUICK if args.quick else {**GPT_CONFIG_124M, "context_length": 256}
    batch_size = 2
    repeticiones = args.repeticiones or (1 if args.quick else 3)
    pasos = args.pasos or (1 if args.quick else 3)
    pasos_perdida = args.pasos_perdida or (3 if args.quick else 20)
    bf16 = comun.bf16_acelerado(device)
    variantes = [v for v in VARIANTES if (bf16 or v != "referencia_bf16") and (args.compilar or v != "rapido_compile")]

    info = comun.entorno(device)
    print(comun.cabecera("Entrenamiento", info))

    torch.manual_seed(123)
    lotes = list(
        create_dataloader_v1(load_the_verdict(), batch_size=batch_size, max_length=cfg["context_length"],
                             stride=cfg["context_length"], shuffle=False, drop_last=True)
    )
    estado = GPTModel(cfg).state_dict()  # los mismos pesos iniciales para todas las variantes
    tokens_por_paso = batch_size * cfg["context_length"]

    def medir(variante: str) -> dict:
        if variante == "pico":
            return {"fp32": comun.pico_matmul(torch.float32, device), "bf16": comun.pico_matmul(torch.bfloat16, device)}
        model, opt = construir(variante, cfg, estado, device)
        paso(variante, model, opt, lotes[0], device)  # calentamiento (reserva gradientes y estados de AdamW)
        tiempo, _ = comun.cronometrar(
            lambda: [paso(variante, model, opt, lotes[(i + 1) % len(lotes)], device) for i in range(pasos)], device
        )
        return {"tokens_s": pasos * tokens_por_paso / tiempo}

    print(f"Velocidad: {repeticiones} vueltas alternadas × {pasos} pasos medidos (más 1 de calentamiento) por variante")
    vueltas = comun.alternar(["pico", *variantes], repeticiones, medir)
    pico = {d: comun.mediana(v[d] for v in vueltas["pico"]) for d in ("fp32", "bf16")}
    flops = flops_por_paso(GPTModel(cfg), cfg, tokens_por_paso)

    resultados = {}
    for v in variantes:
        tokens_s = comun.mediana(x["tokens_s"] for x in vueltas[v])
        gflops = flops / (tokens_por_paso / tokens_s) / 1e9
        en_bf16 = v in ("referencia_bf16",) or (v.startswith("rapido_") and v not in ("rapido_piezas", "rapido_adamw") and bf16)
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
        [VARIANTES[v][0], f"{r['tokens_s']:.1f}", f"{r['vs_referencia_fp32']:.2f}×", f"{r['gflops']:.0f}",
         f"{100 * r['fraccion_pico']:.0f} % ({r['dtype_calculo']})"]
        for v, r in resultados.items()
    ]
    print()
    print(comun.tabla(["Variante", "tokens/s", "× ref. fp32", "GFLOP/s", "% del pico"], filas))
    print("tokens/s: mediana de las vueltas; × ref. fp32: mediana de los cocientes de cada vuelta.")
    print(f"Pico medido (matmul 2048³): fp32 {pico['fp32']:.0f} GFLOP/s, bf16 {pico['bf16']:.0f} GFLOP/s. "
          f"FLOP por paso ≈ {flops / 1e9:.0f} G (6·N·tokens + atención).")

    # --- Pérdida tras `pasos_perdida` pasos: didáctico fp32 frente al camino rápido completo -----------------------
    rapido = "rapido_compile" if args.compilar else "rapido_auto"
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
        [[VARIANTES[v][0], f"{r['perdida_ultimo_paso']:.4f}", f"{r['perdida_media_lotes']:.4f}", f"{r['segundos']:.1f}"]
         for v, r in perdida.items()],
    ))
    print(f"Diferencia relativa de la pérdida media: {100 * diferencia:+.2f} % (objetivo: dentro de ±2 %)")

    mejor = max((v for v in resultados if v.startswith("rapido_")), key=lambda v: resultados[v]["vs_referencia_fp32"])
    cifras = {
        "benchmark": "entrenamiento",
        "quick": args.quick,
        "entorno": info,
        "carga_fin": comun.cargas(),
        "config": {**cfg, "batch_size": batch_size, "repeticiones": repeticiones, "pasos": pasos},
        "pico_gflops": {k: round(v, 1) for k, v in pico.items()},
        "flops_por_paso": flops,
        "variantes": resultados,
        "perdida": {"pasos": pasos_perdida, **perdida, "diferencia_relativa": round(diferencia, 5)},
        "objetivos": {
            "rapido_vs_referencia_fp32": resultados[mejor]["vs_referencia_fp32"],
            "mejor_rapido": mejor,
            "curso_fp32_vs_referencia_fp32": resultados["curso_fp32"]["vs_referencia_fp32"],
            "perdida_dentro_del_2_por_ciento": abs(diferencia) <= 0.02,
        },
    }
    print(f"Carga al terminar: {cifras['carga_fin']}")
    comun.imprimir_json(cifras, args.guardar)


if __name__ == "__main__":
    main()
