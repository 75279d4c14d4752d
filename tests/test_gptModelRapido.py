"""Pruebas de seccion05/gptModelRapido.py: caché KV, camino rápido de entrenamiento y compatibilidad con GPTModel."""

import json
import math
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from seccion04_ImplementacionGPTGeneracionTexto.generateTextSimple import generate_text_simple
from seccion04_ImplementacionGPTGeneracionTexto.gptConfig124M import GPT_CONFIG_124M
from seccion04_ImplementacionGPTGeneracionTexto.gptModel import GPTModel
from seccion04_ImplementacionGPTGeneracionTexto.multiHeadAttention import MultiHeadAttention
from seccion05 import gptModelRapido
from seccion05.gptModelRapido import (
    DropoutRapido,
    GPTModelRapido,
    KVCache,
    LinearRapida,
    MultiHeadAttentionRapida,
    RepartoGEMV,
    adamw_rapido,
    bf16_acelerado,
    bf16_runs,
    dropout_rapido,
    generate_cached,
)
from tests.configuraciones import CFG_DIMINUTA
from tests.cuadernos import assert_misma_definicion

CFG = CFG_DIMINUTA

# Tolerancia de los logits del camino rápido en fp32 frente a los del didáctico: las dos calculan lo mismo
# con otro orden de operaciones (núcleos fusionados), así que solo difieren en el redondeo de fp32.
TOLERANCIA_LOGITS = {"rtol": 1e-5, "atol": 1e-5}

# Las pruebas que calculan en bf16 solo tienen sentido donde ese cálculo se puede ejecutar (ver bf16_runs)
necesita_bf16 = pytest.mark.skipif(not bf16_runs("cpu"), reason="en esta CPU el cálculo en bfloat16 no se puede ejecutar")


@pytest.fixture
def modelos():
    """Un GPTModel diminuto en modo evaluación y un GPTModelRapido con sus mismos pesos."""
    torch.manual_seed(123)
    gpt = GPTModel(CFG).eval()
    return gpt, GPTModelRapido.desde(gpt)


# --- Compatibilidad con GPTModel -------------------------------------------------------------------------------


def test_state_dict_mismas_claves_y_formas():
    torch.manual_seed(123)
    gpt, rapido = GPTModel(CFG), GPTModelRapido(CFG)
    sd_gpt, sd_rapido = gpt.state_dict(), rapido.state_dict()
    assert list(sd_gpt) == list(sd_rapido)
    assert all(sd_gpt[k].shape == sd_rapido[k].shape for k in sd_gpt)


def test_state_dict_ida_y_vuelta():
    torch.manual_seed(123)
    gpt = GPTModel(CFG)
    rapido = GPTModelRapido(CFG)
    rapido.load_state_dict(gpt.state_dict())  # estricto: mismas claves
    otro = GPTModel(CFG)
    otro.load_state_dict(rapido.state_dict())
    for k, v in gpt.state_dict().items():
        assert torch.equal(v, otro.state_dict()[k]), k


def test_desde_copia_config_pesos_y_modo(modelos):
    gpt, rapido = modelos
    assert rapido.cfg == CFG
    assert not rapido.training
    assert GPTModelRapido.desde(gpt.train()).training
    assert all(torch.equal(a, b) for a, b in zip(gpt.state_dict().values(), rapido.state_dict().values(), strict=True))


def test_desde_conserva_el_dtype():
    torch.manual_seed(123)
    gpt = GPTModel(CFG).to(torch.bfloat16)
    rapido = GPTModelRapido.desde(gpt)
    assert rapido.out_head.weight.dtype == torch.bfloat16
    assert torch.equal(rapido.out_head.weight, gpt.out_head.weight)


def test_desde_con_qkv_bias():
    cfg = {**CFG, "qkv_bias": True, "drop_rate": 0.0}
    torch.manual_seed(123)
    gpt = GPTModel(cfg).eval()
    rapido = GPTModelRapido.desde(gpt)
    assert rapido.cfg == cfg
    x = torch.randint(0, cfg["vocab_size"], (2, 16))
    torch.testing.assert_close(rapido(x), gpt(x), **TOLERANCIA_LOGITS)


# --- Mismos resultados que el camino didáctico ------------------------------------------------------------------


def test_logits_iguales_en_fp32(modelos):
    gpt, rapido = modelos
    torch.manual_seed(0)
    x = torch.randint(0, CFG["vocab_size"], (3, 16))
    with torch.no_grad():
        torch.testing.assert_close(rapido(x), gpt(x), **TOLERANCIA_LOGITS)


def test_gradientes_iguales_en_fp32(modelos):
    gpt, rapido = modelos
    torch.manual_seed(0)
    x = torch.randint(0, CFG["vocab_size"], (2, 16))
    y = torch.randint(0, CFG["vocab_size"], (2, 16))
    for m in (gpt, rapido):
        torch.nn.functional.cross_entropy(m(x).flatten(0, 1), y.flatten()).backward()
    for (nombre, p), q in zip(gpt.named_parameters(), rapido.parameters(), strict=True):
        torch.testing.assert_close(q.grad, p.grad, rtol=1e-4, atol=1e-6, msg=nombre)


@necesita_bf16
def test_logits_en_bf16_cercanos():
    """Con autocast bf16 los logits se parecen a los de fp32 (bf16 tiene unas 3 cifras significativas)."""
    torch.manual_seed(123)
    gpt = GPTModel(CFG).eval()
    rapido = GPTModelRapido.desde(gpt, precision="bf16")
    x = torch.randint(0, CFG["vocab_size"], (2, 16))
    with torch.no_grad():
        logits = rapido(x)
        esperado = gpt(x)
    assert logits.dtype == torch.float32
    assert not torch.allclose(logits, esperado, **TOLERANCIA_LOGITS)  # el autocast ha actuado de verdad
    assert (logits - esperado).abs().max() < 0.05 * esperado.abs().max()


def _entrenar(model, optimizer, pasos: int) -> float:
    """Entrena `pasos` pasos sobre el mismo lote fijo y devuelve la pérdida del último paso."""
    torch.manual_seed(1)
    x = torch.randint(0, CFG["vocab_size"], (4, 16))
    y = torch.roll(x, -1, dims=1)
    model.train()
    for _ in range(pasos):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x).flatten(0, 1), y.flatten())
        loss.backward()
        optimizer.step()
    return loss.item()


@necesita_bf16
def test_perdida_bf16_y_adamw_fusionado_dentro_del_2_por_ciento():
    cfg = {**CFG, "drop_rate": 0.0}  # sin dropout, para comparar la misma cuenta
    torch.manual_seed(123)
    gpt = GPTModel(cfg)
    rapido = GPTModelRapido.desde(gpt, precision="bf16")
    perdida_fp32 = _entrenar(gpt, torch.optim.AdamW(gpt.parameters(), lr=0.004, weight_decay=0.1), pasos=10)
    perdida_bf16 = _entrenar(rapido, adamw_rapido(rapido.parameters(), lr=0.004, weight_decay=0.1), pasos=10)
    assert perdida_fp32 < 9.0  # ha aprendido algo (al principio, ~11.06)
    assert math.isclose(perdida_bf16, perdida_fp32, rel_tol=0.02)


def test_adamw_rapido_fusionado_en_cpu_y_mismos_pasos():
    torch.manual_seed(123)
    a = GPTModel({**CFG, "drop_rate": 0.0})
    b = GPTModel({**CFG, "drop_rate": 0.0})
    b.load_state_dict(a.state_dict())
    opt = adamw_rapido(b.parameters(), lr=0.001, weight_decay=0.1)
    assert opt.defaults["fused"] is True  # torch >= 2.4 lo tiene en CPU
    _entrenar(a, torch.optim.AdamW(a.parameters(), lr=0.001, weight_decay=0.1), pasos=3)
    _entrenar(b, opt, pasos=3)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(q, p, rtol=1e-4, atol=1e-5)


def test_dtype_autocast_segun_precision():
    assert GPTModelRapido(CFG).dtype_autocast(torch.device("cpu")) is None
    auto = GPTModelRapido(CFG, precision="auto")
    assert auto.dtype_autocast(torch.device("cpu")) is (torch.bfloat16 if bf16_acelerado("cpu") else None)
    assert auto.dtype_autocast(torch.device("meta")) is None  # dispositivos sin bf16 rápido: fp32
    assert bf16_acelerado("meta") is False
    assert not bf16_acelerado("cpu") or bf16_runs("cpu")  # acelerado implica que se puede ejecutar


@necesita_bf16
def test_dtype_autocast_bf16_en_cpu():
    assert GPTModelRapido(CFG, precision="bf16").dtype_autocast(torch.device("cpu")) is torch.bfloat16


# --- bf16: se decide por lo que de verdad se ejecuta ---------------------------------------------------------------

CFG_64 = {**CFG, "context_length": 64, "drop_rate": 0.0}  # 64 consultas y 64 claves: PyTorch puede empaquetar

_BF16_DE_VERDAD = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, {raiz!r})
    import torch
    from seccion05.gptModelRapido import GPTModelRapido, bf16_acelerado, bf16_runs

    cfg = {cfg!r}
    sonda = bf16_runs("cpu")  # lo primero: la respuesta no puede depender de lo que se haya ejecutado antes
    torch.manual_seed(123)
    model = GPTModelRapido(cfg)  # en fp32: el autocast se pone a mano, como lo pondría precision="bf16"
    x = torch.randint(0, cfg["vocab_size"], (2, cfg["context_length"]))
    try:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = model(x)
        logits.sum().backward()
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
            model.eval()(x)
        de_verdad = True
    except RuntimeError:
        de_verdad = False
    auto = GPTModelRapido(cfg, precision="auto").dtype_autocast(torch.device("cpu"))
    try:
        GPTModelRapido(cfg, precision="bf16")(x)
        error_bf16 = None
    except RuntimeError as error:
        error_bf16 = str(error)
    print(json.dumps({{"sonda": sonda, "de_verdad": de_verdad, "acelerado": bf16_acelerado("cpu"),
                      "auto": str(auto), "error_bf16": error_bf16}}))
""")

MENSAJE_SIN_BF16 = r'en esta CPU el cálculo en bfloat16 no se puede ejecutar: .*usa precision="auto" o "fp32"'


@pytest.mark.parametrize(
    "entorno",
    [{}, {"ATEN_CPU_CAPABILITY": "avx2"}, {"ATEN_CPU_CAPABILITY": "avx2", "OMP_NUM_THREADS": "1"}],
    ids=["por_defecto", "avx2", "avx2_un_hilo"],
)
def test_bf16_runs_dice_si_un_modelo_de_verdad_calcula_en_bf16(entorno):
    """En un proceso nuevo (con otros núcleos de ATen, como en otra CPU): la sonda acierta, "auto" se queda en fp32
    donde bf16 no se puede ejecutar y "bf16" da allí un error en español. En una CPU con AMX, con
    ATEN_CPU_CAPABILITY=avx2, la atención en bf16 falla («pack_vnni2 is only supported when avx512...»)."""
    env = {k: v for k, v in os.environ.items() if k not in ("ATEN_CPU_CAPABILITY", "OMP_NUM_THREADS")}
    codigo = _BF16_DE_VERDAD.format(raiz=str(Path(__file__).resolve().parents[1]), cfg=CFG_64)
    salida = subprocess.run([sys.executable, "-c", codigo], capture_output=True, text=True, check=True, timeout=120,
                            env={**env, **entorno})
    r = json.loads(salida.stdout.splitlines()[-1])
    assert r["sonda"] is r["de_verdad"]
    assert r["auto"] == ("torch.bfloat16" if r["sonda"] and r["acelerado"] else "None")
    if r["sonda"]:
        assert r["error_bf16"] is None
    else:
        assert re.search(MENSAJE_SIN_BF16, r["error_bf16"]), r["error_bf16"]


@pytest.fixture
def sin_bf16(monkeypatch):
    """Simula una CPU donde la atención en bf16 falla como con AMX y ATEN_CPU_CAPABILITY=avx2: solo con 64
    consultas y 64 claves o más, donde PyTorch empaqueta las matrices. Vacía la memoria de la sonda."""
    original = torch.nn.functional.scaled_dot_product_attention

    def sdpa(query, key, value, *args, **kwargs):
        en_bf16 = query.dtype == torch.bfloat16 or (
            torch.is_autocast_enabled("cpu") and torch.get_autocast_dtype("cpu") == torch.bfloat16
        )
        if en_bf16 and query.shape[-2] >= 64 and key.shape[-2] >= 64:
            raise RuntimeError("pack_vnni2 is only supported when avx512 is supported")
        return original(query, key, value, *args, **kwargs)

    monkeypatch.setattr(torch.nn.functional, "scaled_dot_product_attention", sdpa)
    monkeypatch.setattr(gptModelRapido, "_FALLOS_BF16", {})


def test_sin_bf16_la_sonda_lo_detecta_y_auto_calcula_en_fp32(sin_bf16):
    torch.manual_seed(123)
    fp32 = GPTModelRapido(CFG_64).eval()
    x = torch.randint(0, CFG["vocab_size"], (2, 64))
    with pytest.raises(RuntimeError, match="pack_vnni2"), torch.autocast("cpu", dtype=torch.bfloat16):
        fp32(x)  # la simulación falla donde fallaría el modelo de verdad
    assert bf16_runs("cpu") is False and bf16_acelerado("cpu") is False
    auto = GPTModelRapido(CFG_64, precision="auto").eval()
    auto.load_state_dict(fp32.state_dict())
    assert auto.dtype_autocast(torch.device("cpu")) is None
    with torch.no_grad():
        assert torch.equal(auto(x), fp32(x))  # en fp32, las mismas cuentas


def test_sin_bf16_precision_bf16_da_un_error_en_espanol(sin_bf16):
    model = GPTModelRapido(CFG, precision="bf16")
    with pytest.raises(RuntimeError, match=MENSAJE_SIN_BF16) as error:
        model(torch.zeros(1, 4, dtype=torch.long))
    assert "pack_vnni2 is only supported when avx512 is supported" in str(error.value)  # el motivo de PyTorch
    with pytest.raises(RuntimeError, match=MENSAJE_SIN_BF16):
        generate_cached(model, torch.zeros(1, 4, dtype=torch.long), 2)


def test_la_sonda_se_ejecuta_una_vez_por_dispositivo(monkeypatch):
    monkeypatch.setattr(gptModelRapido, "_FALLOS_BF16", {})
    llamadas = []
    original = torch.nn.functional.scaled_dot_product_attention
    monkeypatch.setattr(torch.nn.functional, "scaled_dot_product_attention",
                        lambda *a, **k: llamadas.append(1) or original(*a, **k))
    primera = bf16_runs("cpu")
    assert len(llamadas) == 1
    assert bf16_runs(torch.device("cpu")) is primera and bf16_acelerado("cpu") is bf16_acelerado("cpu")
    assert len(llamadas) == 1  # guardada: no se repite


def test_la_sonda_no_toca_la_semilla_y_funciona_sin_gradientes(monkeypatch):
    esperado = bf16_runs("cpu")
    monkeypatch.setattr(gptModelRapido, "_FALLOS_BF16", {})
    torch.manual_seed(0)
    a = torch.rand(3)
    torch.manual_seed(0)
    with torch.inference_mode():  # como al generar: la sonda activa los gradientes por su cuenta
        assert bf16_runs("cpu") is esperado
    assert torch.equal(torch.rand(3), a)  # no ha sorteado nada con el generador global


# --- Caché KV -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_inicial", [1, 3, 7])
@pytest.mark.parametrize("n_nuevos", [1, 5, None])  # None: hasta llenar context_length
def test_cache_igual_que_sin_cache(modelos, n_inicial, n_nuevos):
    gpt, rapido = modelos
    n_nuevos = n_nuevos or CFG["context_length"] - n_inicial
    torch.manual_seed(n_inicial)
    idx = torch.randint(0, CFG["vocab_size"], (2, n_inicial))
    esperado = generate_text_simple(gpt, idx, n_nuevos, CFG["context_length"])
    assert torch.equal(generate_cached(rapido, idx, n_nuevos), esperado)
    assert torch.equal(generate_cached(rapido, idx, n_nuevos, use_cache=False), esperado)


def test_cache_llega_justo_a_context_length(modelos):
    gpt, rapido = modelos
    idx = torch.tensor([[6109, 3626, 6100, 345]])
    out = generate_cached(rapido, idx, CFG["context_length"] - 4)
    assert out.shape == (1, CFG["context_length"])
    assert torch.equal(out, generate_text_simple(gpt, idx, CFG["context_length"] - 4, CFG["context_length"]))


def test_cache_con_context_size_menor(modelos):
    gpt, rapido = modelos
    idx = torch.tensor([[6109, 3626, 6100, 345]])
    esperado = generate_text_simple(gpt, idx, 6, context_size=10)
    assert torch.equal(generate_cached(rapido, idx, 6, context_size=10), esperado)


def test_recortar_desliza_la_ventana_como_sin_cache(modelos):
    gpt, rapido = modelos
    torch.manual_seed(5)
    idx = torch.randint(0, CFG["vocab_size"], (1, 20))  # más largo que context_length: se recorta también
    esperado = generate_text_simple(gpt, idx, 12, CFG["context_length"])
    assert torch.equal(generate_cached(rapido, idx, 12, recortar=True), esperado)


def test_pasar_de_context_length_sin_recortar_da_error(modelos):
    _, rapido = modelos
    idx = torch.zeros(1, 10, dtype=torch.long)
    with pytest.raises(ValueError, match=r"suman 17 y pasan de la ventana context_size=16.*recortar=True"):
        generate_cached(rapido, idx, 7)


def test_prellenado_por_trozos_da_los_mismos_logits(modelos):
    """Pasar el texto en trozos (varios tokens tras los guardados: máscara parcial) = pasarlo entero."""
    _, rapido = modelos
    torch.manual_seed(0)
    x = torch.randint(0, CFG["vocab_size"], (2, 16))
    with torch.no_grad():
        completo = rapido(x)
        cache = KVCache(CFG["n_layers"], max_len=16)
        trozos = [rapido(x[:, :5], cache=cache), rapido(x[:, 5:6], cache=cache), rapido(x[:, 6:], cache=cache)]
    assert cache.seq_len == 16
    torch.testing.assert_close(torch.cat(trozos, dim=1), completo, **TOLERANCIA_LOGITS)


def test_forma_de_la_cache(modelos):
    _, rapido = modelos
    cache = KVCache(CFG["n_layers"], max_len=12)
    with torch.no_grad():
        rapido(torch.zeros(3, 4, dtype=torch.long), cache=cache)
    assert cache.seq_len == 4
    assert cache.keys[0].shape == (3, CFG["n_heads"], 12, CFG["emb_dim"] // CFG["n_heads"])
    cache.reset()
    assert cache.seq_len == 0


def test_muestreo_igual_con_y_sin_cache(modelos):
    _, rapido = modelos
    idx = torch.tensor([[6109, 3626, 6100, 345]])
    salidas = []
    for use_cache in (True, False):
        torch.manual_seed(123)
        salidas.append(generate_cached(rapido, idx, 10, temperature=1.4, top_k=25, use_cache=use_cache))
    assert torch.equal(*salidas)
    torch.manual_seed(123)
    assert not torch.equal(generate_cached(rapido, idx, 10, temperature=1.4), generate_cached(rapido, idx, 10))


def test_top_k_1_es_voraz(modelos):
    _, rapido = modelos
    idx = torch.tensor([[6109, 3626, 6100, 345]])
    torch.manual_seed(123)
    assert torch.equal(generate_cached(rapido, idx, 8, temperature=2.0, top_k=1), generate_cached(rapido, idx, 8))


def test_top_k_solo_elige_entre_los_k_mayores(modelos):
    """Con top_k=3, el primer token generado está entre los 3 logits mayores del último paso."""
    _, rapido = modelos
    idx = torch.tensor([[6109, 3626, 6100, 345], [40, 1107, 588, 11311]])
    with torch.no_grad():
        top3 = rapido(idx)[:, -1, :].topk(3).indices
    for semilla in range(5):
        torch.manual_seed(semilla)
        nuevo = generate_cached(rapido, idx, 1, temperature=5.0, top_k=3)[:, -1:]
        assert (nuevo == top3).any(dim=1).all()


def test_eos_detiene_sin_anadirlo(modelos):
    _, rapido = modelos
    idx = torch.tensor([[6109, 3626, 6100, 345]])
    voraz = generate_cached(rapido, idx, 8)
    tercero = int(voraz[0, 6])
    assert tercero not in voraz[0, 4:6].tolist()  # la prueba necesita que no haya salido antes
    assert torch.equal(generate_cached(rapido, idx, 8, eos_id=tercero), voraz[:, :6])
    assert torch.equal(generate_cached(rapido, idx, 8, eos_id=int(voraz[0, 4])), idx)


def test_eos_en_un_lote_rellena_las_terminadas(modelos):
    _, rapido = modelos
    idx = torch.tensor([[6109, 3626, 6100, 345], [40, 1107, 588, 11311]])
    voraz = generate_cached(rapido, idx, 8)
    eos = int(voraz[0, 6])  # el tercer token nuevo de la primera fila
    assert eos not in voraz[0, 4:6].tolist() and eos not in voraz[1, 4:].tolist()
    out = generate_cached(rapido, idx, 8, eos_id=eos)
    assert torch.equal(out[0], torch.cat([voraz[0, :6], torch.full((6,), eos)]))  # relleno con eos
    assert torch.equal(out[1], voraz[1])  # la otra fila sigue igual
    assert torch.equal(generate_cached(rapido, idx, 8, eos_id=eos, use_cache=False), out)


def test_cero_tokens_devuelve_la_entrada(modelos):
    _, rapido = modelos
    idx = torch.tensor([[1, 2, 3]])
    assert generate_cached(rapido, idx, 0) is idx


def test_golden_124m_con_cache():
    """El texto de referencia del curso (10 tokens voraces con la semilla 123) también sale con la caché."""
    from seccion02_TrabajarDatosTexto.tokenizerGPT2 import get_tokenizer

    torch.manual_seed(123)
    rapido = GPTModelRapido({**GPT_CONFIG_124M, "context_length": 256}).eval()
    tokenizer = get_tokenizer()
    idx = torch.tensor([tokenizer.encode("Every effort moves you")])
    out = generate_cached(rapido, idx, 10)
    assert tokenizer.decode(out[0].tolist()) == "Every effort moves you rentingetic wasnم refres RexMeCHicular stren"


# --- Errores en español -------------------------------------------------------------------------------------------


def test_precision_no_valida():
    with pytest.raises(ValueError, match="precision debe ser 'fp32', 'bf16' o 'auto'; has pasado 'fp16'"):
        GPTModelRapido(CFG, precision="fp16")


@pytest.mark.parametrize(
    ("argumentos", "mensaje"),
    [
        ({"max_new_tokens": -1}, "max_new_tokens debe ser un entero mayor o igual que 0"),
        ({"max_new_tokens": 2.0}, "max_new_tokens debe ser un entero"),
        ({"context_size": 0}, r"context_size debe ser un entero entre 1 y 16 .*context_length=16"),
        ({"context_size": 17}, r"context_size debe ser un entero entre 1 y 16 .*context_length=16"),
        ({"temperature": -0.5}, r"temperature debe ser 0 \(decodificación voraz\) o un número entre 0.01 y 1000"),
        ({"temperature": float("nan")}, r"temperature debe ser 0 \(decodificación voraz\) o un número"),
        ({"top_k": 0}, r"top_k debe ser un entero entre 1 y 50257 \(o None\).*vocab_size=50257"),
        ({"top_k": 50258}, r"top_k debe ser un entero entre 1 y 50257 \(o None\).*vocab_size=50257"),
        ({"eos_id": 50257}, r"eos_id debe ser un entero entre 0 y 50256 \(o None\)"),
        ({"idx": torch.zeros(1, 0, dtype=torch.long)}, "idx debe tener al menos un texto y un token"),
        ({"idx": torch.zeros(3, dtype=torch.long)}, r"idx debe tener forma \(lote, num_tokens\).*unsqueeze\(0\)"),
        ({"idx": torch.zeros(1, 3)}, "Los ids de idx deben ser enteros torch.long"),
    ],
)
def test_errores_de_generate_cached(modelos, argumentos, mensaje):
    _, rapido = modelos
    llamada = {"idx": torch.tensor([[1, 2, 3]]), "max_new_tokens": 3, **argumentos}
    with pytest.raises(ValueError, match=mensaje):
        generate_cached(rapido, **llamada)


def test_generate_cached_valida_con_check_generation_args(modelos, monkeypatch):
    """Una sola validación para todos los generadores: la de generate_text_simple y generate."""
    _, rapido = modelos
    llamadas = []
    original = gptModelRapido.check_generation_args
    monkeypatch.setattr(gptModelRapido, "check_generation_args", lambda *a: llamadas.append(a) or original(*a))
    idx = torch.tensor([[1, 2, 3]])
    generate_cached(rapido, idx, 2, 8, 0.5, 3, 7)
    assert llamadas == [(rapido, idx, 2, 8, 0.5, 3, 7)]
    with pytest.raises(TypeError, match="idx debe ser un tensor de ids"):
        generate_cached(rapido, [[1, 2, 3]], 2)


@pytest.mark.parametrize(
    ("cambio", "mensaje"),
    [
        ({"n_layers": -1}, r'cfg\["n_layers"\] debe ser un entero mayor o igual que 1'),
        ({"drop_rate": 1.5}, r'cfg\["drop_rate"\] debe ser un número'),
        ({"qkv_bias": "False"}, r'cfg\["qkv_bias"\] debe ser True o False'),
    ],
)
def test_configuracion_no_valida_igual_que_gptmodel(cambio, mensaje):
    with pytest.raises(ValueError, match=mensaje):
        GPTModelRapido({**CFG, **cambio})
    with pytest.raises(ValueError, match=mensaje):
        GPTModel({**CFG, **cambio})


def test_configuracion_sin_claves():
    cfg = {k: v for k, v in CFG.items() if k != "n_heads"}
    with pytest.raises(ValueError, match="A la configuración le faltan estas claves: n_heads"):
        GPTModelRapido(cfg)


def test_cache_con_gptmodel_didactico_da_error(modelos):
    gpt, _ = modelos
    with pytest.raises(TypeError, match=r"La caché KV necesita un GPTModelRapido.*GPTModelRapido.desde\(model\)"):
        generate_cached(gpt, torch.tensor([[1, 2, 3]]), 3)
    # sin caché sirve cualquier GPTModel
    assert generate_cached(gpt, torch.tensor([[1, 2, 3]]), 3, use_cache=False).shape == (1, 6)


def test_cache_llena_da_error_en_forward(modelos):
    _, rapido = modelos
    cache = KVCache(CFG["n_layers"], max_len=6)
    with torch.no_grad():
        rapido(torch.zeros(1, 5, dtype=torch.long), cache=cache)
        with pytest.raises(ValueError, match=r"La caché KV ya guarda 5 posiciones y le llegan 2 más.*cache.reset\(\)"):
            rapido(torch.zeros(1, 2, dtype=torch.long), cache=cache)


def test_max_len_no_valido():
    with pytest.raises(ValueError, match="max_len debe ser un entero mayor que 0; has pasado 0"):
        KVCache(2, max_len=0)


@pytest.mark.parametrize(
    ("argumentos", "mensaje"),
    [
        ({"lr": 0}, "lr debe ser un número mayor que 0; has pasado 0"),
        ({"lr": -1e-3}, "lr debe ser un número mayor que 0"),
        ({"weight_decay": -0.1}, "weight_decay debe ser un número finito mayor o igual que 0"),
        ({"weight_decay": float("inf")}, "weight_decay debe ser un número finito mayor o igual que 0"),
        ({"lr": "0.001"}, "lr debe ser un número finito; has pasado '0.001' \\(str\\)"),
        ({"lr": float("nan")}, "lr debe ser un número finito"),
        ({"lr": float("inf")}, "lr debe ser un número finito"),
    ],
)
def test_errores_de_adamw_rapido(argumentos, mensaje):
    with pytest.raises(ValueError, match=mensaje):
        adamw_rapido(torch.nn.Linear(2, 2).parameters(), **argumentos)


def test_entrada_fuera_del_vocabulario_igual_que_gptmodel(modelos):
    _, rapido = modelos
    with pytest.raises(ValueError, match="Hay un id de token fuera del vocabulario: 50257"):
        rapido(torch.tensor([[50257]]))


# --- El cuaderno enseña la misma KVCache que usa el módulo ---------------------------------------------------------


def test_kvcache_del_cuaderno_igual_que_la_del_modulo():
    assert_misma_definicion("seccion05/6_rendimiento.ipynb", KVCache)


# --- dropout_rapido ---------------------------------------------------------------------------------------------


def test_dropout_rapido_anula_una_fraccion_p_y_escala_el_resto():
    torch.manual_seed(123)
    x = torch.ones(1_000_000)
    y = dropout_rapido(x, 0.1)
    conservados = (y != 0).float().mean().item()
    # Binomial(10⁶, 0,9): desviación típica 3e-4; 0,002 son más de 6 desviaciones
    assert abs(conservados - 0.9) < 0.002
    torch.testing.assert_close(y.unique(), torch.tensor([0.0, 1 / 0.9]))  # solo 0 o 1/(1-p)
    assert abs(y.mean().item() - 1.0) < 0.003  # el valor esperado no cambia


@pytest.mark.parametrize("forma", [(3, 5, 7), (1,), (2, 12, 16, 16)])  # también con un número impar de elementos
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_dropout_rapido_conserva_forma_y_dtype(forma, dtype):
    torch.manual_seed(123)
    x = torch.randn(forma).to(dtype)
    y = dropout_rapido(x, 0.5)
    assert y.shape == x.shape and y.dtype == dtype
    conservados = y != 0
    torch.testing.assert_close(y[conservados], (x[conservados].float() * 2).to(dtype))


def test_dropout_rapido_reproducible_con_la_semilla():
    x = torch.ones(1000)
    torch.manual_seed(5)
    a = dropout_rapido(x, 0.3)
    torch.manual_seed(5)
    b = dropout_rapido(x, 0.3)
    c = dropout_rapido(x, 0.3)  # el generador ha avanzado: otra máscara
    assert torch.equal(a, b) and not torch.equal(b, c)


def test_dropout_rapido_sin_efecto_en_evaluacion_o_con_p_cero():
    x = torch.randn(4, 8)
    assert dropout_rapido(x, 0.1, training=False) is x
    assert dropout_rapido(x, 0.0) is x
    capa = DropoutRapido(0.1).eval()
    assert capa(x) is x


def test_dropout_rapido_con_p_uno_lo_anula_todo():
    assert torch.equal(dropout_rapido(torch.ones(10), 1.0), torch.zeros(10))


@pytest.mark.parametrize("p", [1 - 1e-10, 1 - 2**-33])
def test_dropout_rapido_con_p_casi_uno_lo_anula_todo(p):
    """round(p · 2³²) = 2³²: el umbral no cabe en 32 bits; se anula todo, como con p = 1 (no se multiplica por 1e10)."""
    torch.manual_seed(123)
    y = dropout_rapido(torch.ones(100_000), p)
    assert (y == 0).float().mean().item() == 1.0  # fracción anulada
    assert y.mean().item() == 0.0


@pytest.mark.parametrize("p", [2**-33, 1e-12])
def test_dropout_rapido_con_p_casi_cero_no_anula_nada(p):
    """round(p · 2³²) = 0: no se anula nada y la escala es 1 / (1 − 0) = 1."""
    torch.manual_seed(123)
    x = torch.randn(100_000)
    y = dropout_rapido(x, p)
    assert (y == 0).float().mean().item() == 0.0
    assert torch.equal(y, x) and y.mean().item() == x.mean().item()


def test_dropout_rapido_escala_con_la_probabilidad_aplicada():
    """La escala es 1 / (1 − round(p · 2³²) / 2³²), la de la probabilidad que de verdad se aplica: así el valor
    esperado sigue siendo x. Con p = 1 − 2⁻¹⁴ + 0,45 · 2⁻³², la aplicada es 1 − 2⁻¹⁴ y la escala, 2¹⁴ justos
    (con 1 / (1 − p) sería 16 384,03)."""
    p = 1 - 2**-14 + 0.45 * 2**-32
    torch.manual_seed(123)
    y = dropout_rapido(torch.ones(2**20), p)
    conservados = y[y != 0]
    assert 30 < conservados.numel() < 110  # Poisson de media 2²⁰ · 2⁻¹⁴ = 64
    assert torch.equal(conservados.unique(), torch.tensor([2.0**14]))
    assert abs(y.mean().item() - 1.0) < 0.5  # media 1, con desviación típica 1/8


def test_dropout_rapido_gradiente_es_la_mascara():
    torch.manual_seed(123)
    x = torch.ones(100, requires_grad=True)
    y = dropout_rapido(x, 0.2)
    y.sum().backward()
    torch.testing.assert_close(x.grad, y.detach())  # con x = 1, la salida es la propia máscara escalada


@pytest.mark.parametrize("p", [-0.1, 1.5, True, "0.1", None, float("nan")])
def test_dropout_rapido_p_no_valida(p):
    with pytest.raises(ValueError, match=r"p debe ser un número finito entre 0 y 1; has pasado .* \("):
        dropout_rapido(torch.ones(3), p)


def test_dropout_no_valido():
    with pytest.raises(ValueError, match="dropout debe ser 'rapido' o 'torch'"):
        GPTModelRapido(CFG, dropout="nativo")


def test_dropout_torch_da_las_mismas_mascaras_que_gptmodel():
    # En modo entrenamiento (con dropout), dropout="torch" sortea lo mismo que GPTModel con la misma semilla
    torch.manual_seed(123)
    gpt = GPTModel(CFG).train()
    rapido = GPTModelRapido.desde(gpt, dropout="torch")
    x = torch.randint(0, CFG["vocab_size"], (2, 16))
    torch.manual_seed(7)
    esperado = gpt(x)
    torch.manual_seed(7)
    torch.testing.assert_close(rapido(x), esperado, **TOLERANCIA_LOGITS)


def test_atencion_con_dropout_rapido_igual_que_la_didactica_con_las_mismas_mascaras():
    # La atención didáctica con DropoutRapido en lugar de nn.Dropout sortea las mismas máscaras en el mismo orden
    torch.manual_seed(123)
    att = MultiHeadAttention(d_in=32, d_out=32, context_length=16, dropout=0.2, num_heads=4).train()
    att.dropout = DropoutRapido(0.2)
    att_rapida = MultiHeadAttentionRapida(d_in=32, d_out=32, context_length=16, dropout=0.2, num_heads=4).train()
    att_rapida.load_state_dict(att.state_dict())
    x = torch.randn(2, 10, 32)
    torch.manual_seed(7)
    esperado = att(x)
    torch.manual_seed(7)
    torch.testing.assert_close(att_rapida(x), esperado, rtol=1e-5, atol=1e-6)
    torch.manual_seed(7)
    assert not torch.allclose(att_rapida.eval()(x), esperado)  # el dropout actuaba de verdad


@necesita_bf16
def test_perdida_con_dropout_rapido_y_bf16_dentro_del_2_por_ciento():
    # Con dropout (otras máscaras) y bf16: la pérdida media de los últimos pasos sigue a la de fp32
    torch.manual_seed(123)
    gpt = GPTModel(CFG)
    rapido = GPTModelRapido.desde(gpt, precision="bf16")
    assert rapido.dropout == "rapido"
    perdida_fp32 = _entrenar(gpt, torch.optim.AdamW(gpt.parameters(), lr=0.004, weight_decay=0.1), pasos=10)
    perdida_rapido = _entrenar(rapido, adamw_rapido(rapido.parameters(), lr=0.004, weight_decay=0.1), pasos=10)
    assert perdida_fp32 < 9.0
    assert math.isclose(perdida_rapido, perdida_fp32, rel_tol=0.02)


# --- reutilizar_memoria -----------------------------------------------------------------------------------------

_FALLOS_DE_PAGINA = textwrap.dedent("""
    import resource, sys
    sys.path.insert(0, {raiz!r})
    import torch
    from seccion05.gptModelRapido import reutilizar_memoria
    aplicada = reutilizar_memoria() if {reutilizar} else None

    def ronda():
        a = torch.ones(16 * 2**20)  # 64 MiB: más que el umbral de glibc para pedir memoria aparte al sistema
        del a

    ronda()
    ronda()  # dos rondas de calentamiento: glibc coloca el bloque en su sitio definitivo en la segunda
    antes = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(30):
        ronda()
    print(aplicada, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - antes)
""")


def _fallos_de_pagina(reutilizar: bool) -> tuple[str, int]:
    """Ejecuta 30 veces «crear y liberar 64 MiB» en un proceso nuevo, tras 2 de calentamiento; devuelve lo que dijo reutilizar_memoria y los
    fallos de página menores que hubo."""
    codigo = _FALLOS_DE_PAGINA.format(raiz=str(Path(__file__).resolve().parents[1]), reutilizar=reutilizar)
    salida = subprocess.run([sys.executable, "-c", codigo], capture_output=True, text=True, check=True, timeout=120)
    aplicada, fallos = salida.stdout.split()
    return aplicada, int(fallos)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt es de glibc (Linux)")
def test_reutilizar_memoria_evita_los_fallos_de_pagina():
    _, fallos_por_defecto = _fallos_de_pagina(reutilizar=False)
    aplicada, fallos = _fallos_de_pagina(reutilizar=True)
    assert aplicada == "True"
    assert fallos_por_defecto > 400_000  # 30 × 64 MiB / 4 KiB = 491 520 páginas nuevas
    # Reutiliza las mismas páginas. No siempre desde la primera ronda: los objetos pequeños que Python crea entre
    # rondas pueden ocupar el principio del bloque libre, y entonces el siguiente de 64 MiB ya no cabe y sale de
    # memoria nueva, hasta que esos huecos quedan ocupados (medido: de 0 a 81 920 fallos en 30 rondas).
    assert fallos < fallos_por_defecto / 3


def test_reutilizar_memoria_fuera_de_linux_no_hace_nada(monkeypatch):
    from seccion05 import gptModelRapido

    monkeypatch.setattr(gptModelRapido.sys, "platform", "darwin")
    assert gptModelRapido.reutilizar_memoria() is False


# --- RepartoGEMV: productos matriz-vector repartidos entre hilos al generar -----------------------------------


@pytest.mark.parametrize("hilos", [2, 3])
@pytest.mark.parametrize("con_sesgo", [True, False])
def test_reparto_da_lo_mismo_que_f_linear(hilos, con_sesgo):
    torch.manual_seed(123)
    capa = LinearRapida(64, 8191, bias=con_sesgo)  # 524 224 pesos (más que el mínimo) y filas impares
    x = torch.randn(1, 1, 64)
    reparto = RepartoGEMV(hilos)
    try:
        with torch.no_grad(), reparto:
            assert reparto.puede(x, capa.weight)
            y = capa(x)
    finally:
        reparto.cerrar()
    torch.testing.assert_close(y, torch.nn.functional.linear(x, capa.weight, capa.bias), rtol=1e-6, atol=1e-6)


def test_reparto_solo_cuando_conviene():
    reparto = RepartoGEMV(2)
    peso = torch.zeros(8192, 64)
    try:
        with reparto:
            with torch.no_grad():
                assert reparto.puede(torch.zeros(1, 1, 64), peso)
                assert not reparto.puede(torch.zeros(1, 2, 64), peso)  # dos filas: ya no es un GEMV
                assert not reparto.puede(torch.zeros(1, 1, 64), torch.zeros(64, 64))  # peso pequeño
                assert not reparto.puede(torch.zeros(1, 1, 64).bfloat16(), peso.bfloat16())  # solo fp32
                with torch.autocast("cpu", dtype=torch.bfloat16):
                    assert not reparto.puede(torch.zeros(1, 1, 64), peso)
            assert not reparto.puede(torch.zeros(1, 1, 64), peso)  # con gradientes
    finally:
        reparto.cerrar()
    assert not RepartoGEMV(1).puede(torch.zeros(1, 1, 64), peso)  # un hilo: nada que repartir


def test_reparto_restaura_los_hilos_de_torch():
    antes = torch.get_num_threads()
    reparto = RepartoGEMV(2)
    with reparto:
        assert torch.get_num_threads() == 1  # los hilos de OpenMP no compiten con los del reparto
        assert RepartoGEMV.actual is reparto
    reparto.cerrar()
    assert torch.get_num_threads() == antes and RepartoGEMV.actual is None


@pytest.mark.parametrize("hilos", [0, -1, 1.5, True])
def test_reparto_hilos_no_validos(hilos):
    with pytest.raises(ValueError, match=r"hilos debe ser un entero mayor o igual que 1; has pasado .* \("):
        RepartoGEMV(hilos)


def test_todas_las_capas_lineales_son_linear_rapida():
    rapido = GPTModelRapido(CFG)
    lineales = [m for m in rapido.modules() if isinstance(m, torch.nn.Linear)]
    assert len(lineales) == 6 * CFG["n_layers"] + 1  # Q, K, V, salida y 2 de la feed-forward por bloque + cabeza
    assert all(type(m) is LinearRapida for m in lineales)


def test_generate_cached_reparte_y_da_los_mismos_tokens(modelos, monkeypatch):
    gpt, rapido = modelos
    monkeypatch.setattr(gptModelRapido, "MIN_ELEMENTOS_REPARTO", 0)  # el modelo diminuto también reparte
    llamadas = []
    original = RepartoGEMV.linear
    monkeypatch.setattr(RepartoGEMV, "linear", lambda self, *a: llamadas.append(1) or original(self, *a))
    hilos_antes = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        idx = torch.tensor([[6109, 3626, 6100]])
        con = generate_cached(rapido, idx, max_new_tokens=10)
        assert torch.get_num_threads() == 2  # restaurados al terminar
    finally:
        torch.set_num_threads(hilos_antes)
    assert len(llamadas) == 9 * (6 * CFG["n_layers"] + 1)  # 9 pasos de un token (el primero es el prellenado)
    assert torch.equal(con, generate_text_simple(gpt, idx, max_new_tokens=10, context_size=CFG["context_length"]))


@pytest.mark.parametrize("como", ["pesos_bf16", pytest.param("autocast", marks=necesita_bf16)])
def test_generate_cached_no_reparte_ni_quita_hilos_en_bf16(modelos, monkeypatch, como):
    _, rapido = modelos
    if como == "pesos_bf16":
        rapido = rapido.to(torch.bfloat16)
    else:
        rapido.precision = "bf16"
    monkeypatch.setattr(gptModelRapido, "MIN_ELEMENTOS_REPARTO", 0)
    hilos_vistos = []
    forward = GPTModelRapido.forward
    monkeypatch.setattr(GPTModelRapido, "forward",
                        lambda self, *a, **k: hilos_vistos.append(torch.get_num_threads()) or forward(self, *a, **k))
    hilos_antes = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        generate_cached(rapido, torch.tensor([[6109, 3626]]), max_new_tokens=4)
    finally:
        torch.set_num_threads(hilos_antes)
    assert hilos_vistos == [2] * 4  # PyTorch conserva sus hilos en cada paso
