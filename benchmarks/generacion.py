"""Benchmark de generación: tokens por segundo con y sin caché KV, del curso y del código de referencia del libro.

Genera 200 tokens voraces tras "Hello, I am" con el GPT de 124M (contexto 1024), alternando las variantes en
cada vuelta, y da la mediana (la primera generación de cada variante, corta, es de calentamiento y no cuenta).
Todas las variantes usan los mismos pesos y deben dar los mismos tokens que `generate_text_simple`; la tabla lo
comprueba. También mide el ancho de banda de lectura de memoria para estimar el límite de la caché KV: con un solo
token por paso, cada token nuevo obliga a leer todos los pesos (salvo los embeddings) de la memoria.

    python benchmarks/generacion.py           # completo (varios minutos en una CPU de 2 núcleos)
    python benchmarks/generacion.py --quick   # prueba corta con un modelo diminuto

La última línea es un objeto JSON con todas las cifras.
"""

from __future__ import annotations

import comun
import torch

from seccion02_TrabajarDatosTexto.tokenizerGPT2 import get_tokenizer
from seccion04_ImplementacionGPTGeneracionTexto.generateTextSimple import generate_text_simple
from seccion04_ImplementacionGPTGeneracionTexto.gptConfig124M import GPT_CONFIG_124M
from seccion04_ImplementacionGPTGeneracionTexto.gptModel import GPTModel
from seccion05.generateCached import generate_cached
from seccion05.gptModelFast import GPTModelFast

VARIANTES = {
    "curso_sin_cache": "curso: generate_text_simple (sin caché)",
    "referencia_sin_cache": "referencia: generate_text_simple (sin caché)",
    "referencia_cache": "referencia: caché KV del libro (kv_cache.gpt2)",
    "rapido_sin_cache": "rápido: generate_cached(use_cache=False)",
    "rapido_cache_sin_reparto": "rápido: caché KV sin reparto (split_gemv=False)",
    "rapido_cache": "rápido: generate_cached (caché KV, fp32)",
    "rapido_cache_bf16": "rápido: caché KV con pesos en bf16",
}


def generar_referencia_cache(model, idx, max_new_tokens: int):
    """El bucle con caché del paquete de referencia (kv_cache/generate.py), adaptado a su GPTModel de GPT-2."""
    from llms_from_scratch.kv_cache.utils import KVCache

    model.current_pos = 0  # su modelo guarda la posición en un atributo: hay que ponerla a 0 en cada texto
    cache = KVCache(n_layers=len(model.trf_blocks))
    with torch.no_grad():
        logits = model(idx, use_cache=True, cache=cache)
        for _ in range(max_new_tokens):
            next_idx = logits[:, -1].argmax(dim=-1, keepdim=True)
            idx = torch.cat([idx, next_idx], dim=1)
            logits = model(next_idx, use_cache=True, cache=cache)
    return idx


def construir_modelos(cfg: dict, device: torch.device) -> dict:
    """Un modelo por tipo, todos con los mismos pesos (compartidos en memoria: solo se lee, no se entrena)."""
    from llms_from_scratch.ch04 import GPTModel as GPTModelReferencia
    from llms_from_scratch.kv_cache.gpt2 import GPTModel as GPTModelReferenciaKV

    torch.manual_seed(123)
    curso = GPTModel(cfg).to(device).eval()
    estado = curso.state_dict()
    modelos = {"curso": curso}
    for nombre, clase in (("referencia", GPTModelReferencia), ("referencia_kv", GPTModelReferenciaKV),
                          ("rapido", GPTModelFast)):
        with torch.device("meta"):
            model = clase(cfg)
        model.load_state_dict(estado, assign=True, strict=nombre != "referencia_kv")  # su versión KV no tiene `mask`
        modelos[nombre] = model.to(device).eval()
    modelos["rapido_bf16"] = GPTModelFast.from_model(curso).to(torch.bfloat16)
    return modelos


def generar(variante: str, modelos: dict, idx, n: int, ventana: int):
    if variante == "curso_sin_cache":
        return generate_text_simple(modelos["curso"], idx, n, ventana)
    if variante == "referencia_sin_cache":
        from llms_from_scratch.ch04 import generate_text_simple as generate_text_simple_referencia

        return generate_text_simple_referencia(modelos["referencia"], idx, n, ventana)
    if variante == "referencia_cache":
        return generar_referencia_cache(modelos["referencia_kv"], idx, n)
    if variante == "rapido_sin_cache":
        return generate_cached(modelos["rapido"], idx, n, ventana, use_cache=False)
    if variante == "rapido_cache_sin_reparto":
        return generate_cached(modelos["rapido"], idx, n, ventana, split_gemv=False)
    if variante == "rapido_cache":
        return generate_cached(modelos["rapido"], idx, n, ventana)
    return generate_cached(modelos["rapido_bf16"], idx, n, ventana)


def bytes_por_token(model, cfg: dict, longitud_media: float) -> dict:
    """Bytes que hay que leer de memoria por cada token generado con caché: todos los pesos salvo los embeddings
    (de ellos solo se lee una fila) y las claves y valores guardados (de media `longitud_media` posiciones)."""
    pesos = sum(p.numel() * p.element_size() for n, p in model.named_parameters() if not n.endswith("_emb.weight"))
    cache = 2 * cfg["n_layers"] * longitud_media * cfg["emb_dim"] * 4
    return {"pesos": pesos, "cache_kv": int(cache), "total": int(pesos + cache)}


def main() -> None:
    p = comun.parser(__doc__)
    p.add_argument("--tokens", type=int, default=None, help="tokens nuevos por generación (200; 20 con --quick)")
    args = p.parse_args()
    comun.importar_referencia()
    device = comun.dispositivo(args.device, args.hilos)

    cfg = comun.CFG_QUICK if args.quick else GPT_CONFIG_124M
    n = args.tokens or (20 if args.quick else 200)
    repeticiones = args.repeticiones or (1 if args.quick else 3)
    ventana = cfg["context_length"]
    texto = "Hello, I am"

    info = comun.entorno(device)
    print(comun.cabecera("Generación", info))

    idx = torch.tensor([get_tokenizer().encode(texto)], device=device)
    modelos = construir_modelos(cfg, device)
    variantes = list(VARIANTES)

    no_disponibles = {}
    for v in list(variantes):  # calentamiento: una generación corta de cada variante, que no se mide
        try:
            generar(v, modelos, idx, 3, ventana)
        except Exception as error:  # p. ej., la caché KV de llms-from-scratch 1.0.19 falla en el 2.º token
            no_disponibles[v] = f"{type(error).__name__}: {error}"
            variantes.remove(v)
            print(f"  {VARIANTES[v]}: no disponible ({no_disponibles[v]})")

    salidas = {}  # los tokens de cada vuelta, para compararlos al final con los de generate_text_simple

    def medir(variante: str) -> dict:
        if variante == "ancho_de_banda":
            return {"gb_s": comun.ancho_de_banda(device)}
        segundos, salida = comun.cronometrar(lambda: generar(variante, modelos, idx, n, ventana), device)
        salidas.setdefault(variante, []).append(salida)
        return {"tokens_s": n / segundos}

    print(f"{repeticiones} vueltas alternadas de {n} tokens nuevos tras {texto!r} por variante")
    vueltas = comun.alternar(["ancho_de_banda", *variantes], repeticiones, medir)

    gb_s = max(v["gb_s"] for v in vueltas["ancho_de_banda"])  # el límite: la mejor medida de todas las vueltas
    longitud_media = idx.shape[1] + n / 2
    bytes_fp32 = bytes_por_token(modelos["rapido"], cfg, longitud_media)
    bytes_bf16 = bytes_por_token(modelos["rapido_bf16"], cfg, longitud_media)
    limite = {"fp32": gb_s * 1e9 / bytes_fp32["total"], "bf16": gb_s * 1e9 / bytes_bf16["total"]}

    resultados = {}
    for v in variantes:
        tokens_s = comun.mediana(x["tokens_s"] for x in vueltas[v])
        resultados[v] = {
            "tokens_s": round(tokens_s, 2),
            "tokens_s_vueltas": [round(x["tokens_s"], 2) for x in vueltas[v]],
            # cociente frente a generate_text_simple del curso en la misma vuelta
            "vs_curso_sin_cache": round(comun.mediana(
                x["tokens_s"] / r["tokens_s"] for x, r in zip(vueltas[v], vueltas["curso_sin_cache"], strict=True)), 2),
            "tokens_iguales": all(torch.equal(s, salidas["curso_sin_cache"][0]) for s in salidas[v]),
        }
        if v in ("referencia_cache", "rapido_cache_sin_reparto", "rapido_cache", "rapido_cache_bf16"):  # con caché: limitadas por la memoria
            resultados[v]["fraccion_limite_memoria"] = round(tokens_s / limite["bf16" if v.endswith("bf16") else "fp32"], 3)
    for v, motivo in no_disponibles.items():
        resultados[v] = {"error": motivo}
    filas = []
    for v, r in resultados.items():
        if "error" in r:
            filas.append([VARIANTES[v], "error", "—", "—", "—"])
            continue
        limite_txt = f"{100 * r['fraccion_limite_memoria']:.0f} %" if "fraccion_limite_memoria" in r else "—"
        filas.append([VARIANTES[v], f"{r['tokens_s']:.2f}", f"{r['vs_curso_sin_cache']:.1f}×",
                      "sí" if r["tokens_iguales"] else "no", limite_txt])
    print()
    print(comun.tabla(["Variante", "tokens/s", "× curso sin caché", "mismos tokens", "% del límite de memoria"], filas))
    print("tokens/s: mediana de las vueltas; ×: mediana de los cocientes frente a generate_text_simple en cada vuelta.")
    print(f"Ancho de banda de lectura medido en esta ejecución (la mejor de {5 * repeticiones} ráfagas): {gb_s:.1f} GB/s. Con caché, cada token lee "
          f"{bytes_fp32['total'] / 1e6:.0f} MB en fp32 ({bytes_fp32['pesos'] / 1e6:.0f} MB de pesos + "
          f"{bytes_fp32['cache_kv'] / 1e6:.0f} MB de caché KV de media) → límite ≈ {limite['fp32']:.1f} tokens/s; "
          f"con pesos bf16, {bytes_bf16['total'] / 1e6:.0f} MB → ≈ {limite['bf16']:.1f} tokens/s.")

    cifras = {
        "benchmark": "generacion",
        "quick": args.quick,
        "entorno": info,
        "carga_fin": comun.cargas(),
        "config": {**cfg, "texto": texto, "tokens_nuevos": n, "repeticiones": repeticiones},
        "ancho_de_banda_gb_s": round(gb_s, 2),
        "ancho_de_banda_gb_s_vueltas": [round(v["gb_s"], 2) for v in vueltas["ancho_de_banda"]],
        "bytes_por_token": {"fp32": bytes_fp32, "bf16": bytes_bf16},
        "limite_tokens_s": {k: round(v, 1) for k, v in limite.items()},
        "variantes": resultados,
        "objetivos": {
            "cache_vs_curso_sin_cache": resultados["rapido_cache"]["vs_curso_sin_cache"],
            "referencia_cache_vs_curso_sin_cache": (
                resultados["referencia_cache"].get("vs_curso_sin_cache")
            ),
            "cache_mismos_tokens": resultados["rapido_cache"]["tokens_iguales"],
            "cache_fraccion_limite_memoria": resultados["rapido_cache"].get("fraccion_limite_memoria"),
            "reparto_vs_sin_reparto": round(comun.mediana(
                x["tokens_s"] / r["tokens_s"]
                for x, r in zip(vueltas["rapido_cache"], vueltas["rapido_cache_sin_reparto"], strict=True)), 3),
        },
    }
    for v, motivo in no_disponibles.items():
        print(f"«{VARIANTES[v]}» no se pudo medir: {motivo}")
    if "referencia_cache" in no_disponibles:
        print("  (la caché KV de GPT-2 del paquete recorta la máscara causal por columnas y falla al generar el "
              "segundo token; está corregido en el repositorio del libro, rasbt/LLMs-from-scratch#1048)")
    print(f"Carga al terminar: {cifras['carga_fin']}")
    comun.imprimir_json(cifras, args.guardar)


if __name__ == "__main__":
    main()
