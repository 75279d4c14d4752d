"""Pruebas de seccion05/cpuTricks.py: el reparto de los GEMV entre hilos y la reutilización de la memoria."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from seccion04_ImplementacionGPTGeneracionTexto.generateTextSimple import generate_text_simple
from seccion05 import cpuTricks
from seccion05.cpuTricks import GEMVSplit, SplitLinear, gemv_scales_with_threads, reuse_freed_memory, split_threads
from seccion05.generateCached import generate_cached
from seccion05.gptModelFast import GPTModelFast
from tests.caminoRapido import CFG, modelos_diminutos, necesita_bf16


@pytest.fixture
def modelos():
    return modelos_diminutos()


_FALLOS_DE_PAGINA = textwrap.dedent("""
    import resource, sys
    sys.path.insert(0, {raiz!r})
    import torch
    from seccion05.cpuTricks import reuse_freed_memory
    aplicada = reuse_freed_memory() if {reutilizar} else None

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
    """Ejecuta 30 veces «crear y liberar 64 MiB» en un proceso nuevo, tras 2 de calentamiento; devuelve lo que dijo
    reuse_freed_memory y los fallos de página menores que hubo."""
    codigo = _FALLOS_DE_PAGINA.format(raiz=str(Path(__file__).resolve().parents[1]), reutilizar=reutilizar)
    salida = subprocess.run([sys.executable, "-c", codigo], capture_output=True, text=True, check=True, timeout=120)
    aplicada, fallos = salida.stdout.split()
    return aplicada, int(fallos)



def _paginas_enormes_siempre() -> bool:
    """True si el sistema usa páginas enormes (2 MiB) en cualquier bloque grande (THP en «always»)."""
    ajuste = Path("/sys/kernel/mm/transparent_hugepage/enabled")
    return ajuste.exists() and "[always]" in ajuste.read_text()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt es de glibc (Linux)")
def test_reuse_freed_memory_evita_los_fallos_de_pagina():
    _, fallos_por_defecto = _fallos_de_pagina(reutilizar=False)
    aplicada, fallos = _fallos_de_pagina(reutilizar=True)
    assert aplicada == "True"
    # Cada ronda toca páginas nuevas: 64 MiB son 16 384 páginas de 4 KiB, o 32 de 2 MiB si el sistema usa páginas
    # enormes siempre (transparent huge pages en «always»); así que el mínimo depende de ese ajuste del sistema.
    pagina = 2 * 2**20 if _paginas_enormes_siempre() else 4096
    assert fallos_por_defecto >= 0.9 * 30 * 64 * 2**20 / pagina
    # Reutiliza las mismas páginas. No siempre desde la primera ronda: los objetos pequeños que Python crea entre
    # rondas pueden ocupar el principio del bloque libre, y entonces el siguiente de 64 MiB ya no cabe y sale de
    # memoria nueva, hasta que esos huecos quedan ocupados (medido: de 0 a 81 920 fallos en 30 rondas, frente a
    # unos 492 000 sin ella). Se compara la proporción, que no depende del tamaño de página.
    assert fallos < fallos_por_defecto / 3


def test_reuse_freed_memory_fuera_de_linux_no_hace_nada(monkeypatch):
    monkeypatch.setattr(cpuTricks.sys, "platform", "darwin")
    assert reuse_freed_memory() is False


# --- GEMVSplit: productos matriz-vector repartidos entre hilos al generar -----------------------------------------


def _lineal_grande(con_sesgo: bool) -> torch.nn.Linear:
    torch.manual_seed(123)
    return torch.nn.Linear(64, 8191, bias=con_sesgo)  # 524 224 pesos (más que el mínimo) y filas impares


@pytest.mark.parametrize("hilos", [2, 3, 4, 5])  # también más hilos que núcleos: el reparto no depende de ellos
@pytest.mark.parametrize("con_sesgo", [True, False])
def test_el_reparto_da_lo_mismo_que_f_linear(hilos, con_sesgo):
    capa = _lineal_grande(con_sesgo)
    modelo = torch.nn.Sequential(capa)
    x = torch.randn(1, 1, 64)
    with torch.no_grad(), GEMVSplit(modelo, hilos) as split, split.single_torch_thread():
        assert type(modelo[0]) is SplitLinear and split.can_split(x, capa.weight)
        y = modelo(x)
    torch.testing.assert_close(y, torch.nn.functional.linear(x, capa.weight, capa.bias), rtol=1e-6, atol=1e-6)


def test_split_linear_comparte_los_parametros_y_se_deshace_al_salir():
    torch.manual_seed(123)
    modelo = GPTModelFast({**CFG, "emb_dim": 128})  # 128 × 512 = 65 536 pesos en la feed-forward: pocos
    claves = list(modelo.state_dict())
    lineales = {nombre: m for nombre, m in modelo.named_modules() if type(m) is torch.nn.Linear}
    with GEMVSplit(modelo, 2):
        sustituidas = {nombre: m for nombre, m in modelo.named_modules() if type(m) is SplitLinear}
        assert set(sustituidas) == {"out_head"}  # la única con más de MIN_SPLIT_ELEMENTS pesos
        assert sustituidas["out_head"].weight is lineales["out_head"].weight  # el mismo Parameter
        assert list(modelo.state_dict()) == claves
    assert {nombre: m for nombre, m in modelo.named_modules() if type(m) is torch.nn.Linear} == lineales


def test_split_linear_se_deshace_tambien_si_falla():
    modelo = torch.nn.Sequential(_lineal_grande(True))
    original = modelo[0]
    with pytest.raises(RuntimeError, match="a medias"), GEMVSplit(modelo, 2):
        raise RuntimeError("a medias")
    assert modelo[0] is original


def test_solo_reparte_cuando_conviene():
    peso = torch.zeros(8192, 64)
    with GEMVSplit(torch.nn.Sequential(), 2) as split:
        with torch.no_grad():
            assert split.can_split(torch.zeros(1, 1, 64), peso)
            assert not split.can_split(torch.zeros(1, 2, 64), peso)  # dos filas: ya no es un GEMV
            assert not split.can_split(torch.zeros(1, 1, 64), torch.zeros(64, 64))  # peso pequeño
            assert not split.can_split(torch.zeros(1, 1, 64).bfloat16(), peso.bfloat16())  # solo fp32
            with torch.autocast("cpu", dtype=torch.bfloat16):
                assert not split.can_split(torch.zeros(1, 1, 64), peso)
        assert not split.can_split(torch.zeros(1, 1, 64), peso)  # con gradientes
    with GEMVSplit(torch.nn.Sequential(), 1) as split, torch.no_grad():
        assert not split.can_split(torch.zeros(1, 1, 64), peso)  # un hilo: nada que repartir


def test_single_torch_thread_restaura_los_hilos_de_torch():
    antes = torch.get_num_threads()
    with GEMVSplit(torch.nn.Sequential(), 2) as split:
        with split.single_torch_thread():
            assert torch.get_num_threads() == 1  # los hilos de OpenMP no compiten con los del reparto
        assert torch.get_num_threads() == antes
    with GEMVSplit(torch.nn.Sequential(), 1) as split, split.single_torch_thread():
        assert torch.get_num_threads() == antes  # sin reparto no se tocan


@pytest.mark.parametrize("hilos", [0, -1, 1.5, True])
def test_hilos_no_validos(hilos):
    with pytest.raises(ValueError, match=r"threads debe ser un entero mayor o igual que 1; has pasado .* \("):
        GEMVSplit(torch.nn.Sequential(), hilos)
    with pytest.raises(ValueError, match=r"threads debe ser un entero mayor o igual que 1; has pasado .* \("):
        gemv_scales_with_threads(hilos)


@pytest.fixture
def con_hilos():
    """Deja fijar los hilos de PyTorch en una prueba y los restaura al terminar."""
    antes = torch.get_num_threads()
    yield torch.set_num_threads
    torch.set_num_threads(antes)


@pytest.fixture
def gemv_sin_escalar(monkeypatch):
    """Como en las CPU medidas: el GEMV de PyTorch no escala con los hilos, así que conviene repartir."""
    monkeypatch.setattr(cpuTricks, "_ESCALA_GEMV", {})
    monkeypatch.setattr(cpuTricks, "_medir_escala_gemv", lambda hilos: 1.0)


@pytest.mark.parametrize("hilos", [2, 3, 4])
def test_generate_cached_reparte_y_da_los_mismos_tokens(modelos, monkeypatch, con_hilos, gemv_sin_escalar, hilos):
    gpt, rapido = modelos
    monkeypatch.setattr(cpuTricks, "MIN_SPLIT_ELEMENTS", 0)  # el modelo diminuto también reparte
    llamadas = []
    original = GEMVSplit.linear
    monkeypatch.setattr(GEMVSplit, "linear", lambda self, *a: llamadas.append(self.threads) or original(self, *a))
    con_hilos(hilos)
    idx = torch.tensor([[6109, 3626, 6100]])
    con = generate_cached(rapido, idx, max_new_tokens=10)
    assert torch.get_num_threads() == hilos  # restaurados al terminar
    assert all(type(m) is not SplitLinear for m in rapido.modules())  # y las capas, las de siempre
    assert llamadas == [hilos] * 9 * (6 * CFG["n_layers"] + 1)  # 9 pasos de un token (el primero es el prellenado)
    assert torch.equal(con, generate_text_simple(gpt, idx, max_new_tokens=10, context_size=CFG["context_length"]))


def _hilos_en_cada_paso(model, monkeypatch) -> list[int]:
    """Anota los hilos de PyTorch en cada llamada a GPTModelFast.forward (y si alguna capa estaba repartida)."""
    vistos = []
    forward = GPTModelFast.forward

    def anotado(self, *a, **k):
        repartida = any(type(m) is SplitLinear for m in self.modules())
        vistos.append((torch.get_num_threads(), repartida))
        return forward(self, *a, **k)

    monkeypatch.setattr(GPTModelFast, "forward", anotado)
    return vistos


def test_donde_pytorch_ya_reparte_sus_gemv_no_se_reparte_nada(modelos, monkeypatch, con_hilos):
    """Simula una máquina en la que el GEMV de PyTorch escala con los hilos (la medida da 0.5): split_threads
    responde 1, no se sustituye ninguna capa y PyTorch conserva sus hilos en cada paso; los tokens, los mismos."""
    gpt, rapido = modelos
    monkeypatch.setattr(cpuTricks, "_ESCALA_GEMV", {})
    monkeypatch.setattr(cpuTricks, "_medir_escala_gemv", lambda hilos: 0.5)
    monkeypatch.setattr(cpuTricks, "MIN_SPLIT_ELEMENTS", 0)
    con_hilos(4)
    assert gemv_scales_with_threads(4) and split_threads(rapido, "cpu") == 1
    vistos = _hilos_en_cada_paso(rapido, monkeypatch)
    idx = torch.tensor([[6109, 3626, 6100]])
    out = generate_cached(rapido, idx, max_new_tokens=5)
    assert vistos == [(4, False)] * 5
    assert torch.equal(out, generate_text_simple(gpt, idx, max_new_tokens=5, context_size=CFG["context_length"]))


@pytest.mark.parametrize("como", ["pesos_bf16", pytest.param("autocast", marks=necesita_bf16)])
def test_generate_cached_no_reparte_ni_quita_hilos_en_bf16(modelos, monkeypatch, con_hilos, gemv_sin_escalar, como):
    _, rapido = modelos
    if como == "pesos_bf16":
        rapido = rapido.to(torch.bfloat16)
    else:
        rapido.precision = "bf16"
    monkeypatch.setattr(cpuTricks, "MIN_SPLIT_ELEMENTS", 0)
    con_hilos(2)
    assert split_threads(rapido, "cpu") == 1
    vistos = _hilos_en_cada_paso(rapido, monkeypatch)
    generate_cached(rapido, torch.tensor([[6109, 3626]]), max_new_tokens=4)
    assert vistos == [(2, False)] * 4  # PyTorch conserva sus hilos en cada paso


def test_split_threads_en_fp32_en_cpu(modelos, con_hilos, gemv_sin_escalar):
    _, rapido = modelos
    con_hilos(3)
    assert split_threads(rapido, "cpu") == 3
    assert split_threads(rapido, "meta") == 1  # fuera de la CPU, nunca
    con_hilos(1)
    assert split_threads(rapido, "cpu") == 1


def test_la_medida_del_gemv_se_hace_una_vez_y_no_toca_hilos_ni_semilla(monkeypatch, con_hilos):
    monkeypatch.setattr(cpuTricks, "_ESCALA_GEMV", {})
    medidas = []
    original = cpuTricks._medir_escala_gemv
    monkeypatch.setattr(cpuTricks, "_medir_escala_gemv", lambda hilos: medidas.append(hilos) or original(hilos))
    con_hilos(2)
    torch.manual_seed(0)
    a = torch.rand(3)
    torch.manual_seed(0)
    primera = gemv_scales_with_threads(2)
    assert gemv_scales_with_threads(2) is primera and medidas == [2]  # guardada: no se repite
    assert gemv_scales_with_threads(1) is False and medidas == [2]  # con un hilo no hay nada que medir
    assert torch.get_num_threads() == 2 and torch.equal(torch.rand(3), a)
    assert 0.0 < original(2) < 10.0  # un cociente de tiempos


def test_split_gemv_false_no_reparte(modelos, monkeypatch, con_hilos, gemv_sin_escalar):
    gpt, rapido = modelos
    monkeypatch.setattr(cpuTricks, "MIN_SPLIT_ELEMENTS", 0)
    con_hilos(2)
    vistos = _hilos_en_cada_paso(rapido, monkeypatch)
    idx = torch.tensor([[6109, 3626, 6100]])
    out = generate_cached(rapido, idx, max_new_tokens=4, split_gemv=False)
    assert vistos == [(2, False)] * 4
    assert torch.equal(out, generate_text_simple(gpt, idx, max_new_tokens=4, context_size=CFG["context_length"]))
