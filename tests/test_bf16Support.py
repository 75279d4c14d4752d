"""Pruebas de seccion05/bf16Support.py: la sonda de bf16 dice lo que de verdad se ejecuta."""

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from seccion05 import bf16Support
from seccion05.bf16Support import bf16_accelerated, bf16_runs
from seccion05.generateCached import generate_cached
from seccion05.gptModelFast import GPTModelFast
from tests.caminoRapido import CFG

CFG_64 = {**CFG, "context_length": 64, "drop_rate": 0.0}  # 64 consultas y 64 claves: PyTorch puede empaquetar



_BF16_DE_VERDAD = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, {raiz!r})
    import torch
    from seccion05.bf16Support import bf16_accelerated, bf16_runs
    from seccion05.gptModelFast import GPTModelFast

    cfg = {cfg!r}
    sonda = bf16_runs("cpu")  # lo primero: la respuesta no puede depender de lo que se haya ejecutado antes
    torch.manual_seed(123)
    model = GPTModelFast(cfg)  # en fp32: el autocast se pone a mano, como lo pondría precision="bf16"
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
    auto = GPTModelFast(cfg, precision="auto").dtype_autocast(torch.device("cpu"))
    try:
        GPTModelFast(cfg, precision="bf16")(x)
        error_bf16 = None
    except RuntimeError as error:
        error_bf16 = str(error)
    print(json.dumps({{"sonda": sonda, "de_verdad": de_verdad, "acelerado": bf16_accelerated("cpu"),
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
    monkeypatch.setattr(bf16Support, "_FALLOS_BF16", {})



def test_sin_bf16_la_sonda_lo_detecta_y_auto_calcula_en_fp32(sin_bf16):
    torch.manual_seed(123)
    fp32 = GPTModelFast(CFG_64).eval()
    x = torch.randint(0, CFG["vocab_size"], (2, 64))
    with pytest.raises(RuntimeError, match="pack_vnni2"), torch.autocast("cpu", dtype=torch.bfloat16):
        fp32(x)  # la simulación falla donde fallaría el modelo de verdad
    assert bf16_runs("cpu") is False and bf16_accelerated("cpu") is False
    auto = GPTModelFast(CFG_64, precision="auto").eval()
    auto.load_state_dict(fp32.state_dict())
    assert auto.dtype_autocast(torch.device("cpu")) is None
    with torch.no_grad():
        assert torch.equal(auto(x), fp32(x))  # en fp32, las mismas cuentas



def test_sin_bf16_precision_bf16_da_un_error_en_espanol(sin_bf16):
    model = GPTModelFast(CFG, precision="bf16")
    with pytest.raises(RuntimeError, match=MENSAJE_SIN_BF16) as error:
        model(torch.zeros(1, 4, dtype=torch.long))
    assert "pack_vnni2 is only supported when avx512 is supported" in str(error.value)  # el motivo de PyTorch
    with pytest.raises(RuntimeError, match=MENSAJE_SIN_BF16):
        generate_cached(model, torch.zeros(1, 4, dtype=torch.long), 2)



def test_la_sonda_se_ejecuta_una_vez_por_dispositivo(monkeypatch):
    monkeypatch.setattr(bf16Support, "_FALLOS_BF16", {})
    llamadas = []
    original = torch.nn.functional.scaled_dot_product_attention
    monkeypatch.setattr(torch.nn.functional, "scaled_dot_product_attention",
                        lambda *a, **k: llamadas.append(1) or original(*a, **k))
    primera = bf16_runs("cpu")
    assert len(llamadas) == 1
    assert bf16_runs(torch.device("cpu")) is primera and bf16_accelerated("cpu") is bf16_accelerated("cpu")
    assert len(llamadas) == 1  # guardada: no se repite



def test_la_sonda_no_toca_la_semilla_y_funciona_sin_gradientes(monkeypatch):
    esperado = bf16_runs("cpu")
    monkeypatch.setattr(bf16Support, "_FALLOS_BF16", {})
    torch.manual_seed(0)
    a = torch.rand(3)
    torch.manual_seed(0)
    with torch.inference_mode():  # como al generar: la sonda activa los gradientes por su cuenta
        assert bf16_runs("cpu") is esperado
    assert torch.equal(torch.rand(3), a)  # no ha sorteado nada con el generador global

