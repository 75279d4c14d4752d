"""Pruebas del programa de entrenamiento `python -m seccion05.trainGPT`.

Con un modelo diminuto y unos pasos: el reparto entre dos procesos con torchrun (gloo) frente a un solo proceso
con el mismo lote global, la reanudación exacta (tras un Ctrl-C y tras un fallo), los puntos de control que se
conservan, el registro y la figura, y los errores de datos y de argumentos, antes de entrenar.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import seccion05.trainGPT as trainGPT
from seccion02_TrabajarDatosTexto.theVerdict import load_the_verdict
from seccion05.trainGPT import INTERRUPTED_EXIT, main, read_log

RAIZ = Path(__file__).resolve().parents[1]
SIN_DROPOUT = {"vocab_size": 50257, "context_length": 16, "emb_dim": 16, "n_heads": 2, "n_layers": 2,
               "drop_rate": 0.0, "qkv_bias": False}
CON_DROPOUT = {**SIN_DROPOUT, "drop_rate": 0.1}  # para que reanudar tenga que recuperar el estado aleatorio


@pytest.fixture(scope="module", autouse=True)
def un_hilo():
    """Un hilo de PyTorch: con un modelo diminuto, dos hilos no aceleran y en una máquina ocupada frenan mucho."""
    antes = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(antes)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """Una carpeta con «The Verdict» partido en dos archivos (uno en una subcarpeta)."""
    carpeta = tmp_path_factory.mktemp("corpus")
    texto = load_the_verdict()
    (carpeta / "a.txt").write_text(texto[:12000], encoding="utf-8")
    (carpeta / "sub").mkdir()
    (carpeta / "sub" / "b.txt").write_text(texto[12000:], encoding="utf-8")
    return carpeta


def _config(tmp_path: Path, cfg: dict) -> str:
    ruta = tmp_path / f"config_{cfg['drop_rate']}.json"
    ruta.write_text(json.dumps(cfg), encoding="utf-8")
    return str(ruta)


def _argumentos(corpus: Path, salida: Path, modelo: str, *resto: str) -> list[str]:
    return ["--datos", str(corpus), "--salida", str(salida), "--modelo", modelo, "--sin-barra", *resto]


def _pesos(salida: Path, paso: int) -> dict:
    ruta = salida / "puntos_de_control" / f"paso_{paso:06d}.pth"
    return torch.load(ruta, weights_only=True)["model_state_dict"]


def _sin_tiempos(filas: list[dict]) -> list[dict]:
    return [{k: v for k, v in f.items() if k != "tokens_por_segundo"} for f in filas]


# --- Entrenar, registrar, conservar ----------------------------------------------------------------------------

def test_entrena_registra_y_conserva_los_ultimos_puntos(corpus, tmp_path, capsys):
    salida = tmp_path / "salida"
    codigo = main(_argumentos(corpus, salida, _config(tmp_path, CON_DROPOUT), "--pasos", "6", "--eval-cada", "2",
                              "--guardar-cada", "1", "--conservar", "2", "--lote", "4", "--calentamiento", "2"))
    assert codigo == 0
    salida_texto = capsys.readouterr().out
    assert "6 pasos" in salida_texto and "paso 6/6" in salida_texto
    puntos = sorted(p.name for p in (salida / "puntos_de_control").iterdir())
    assert puntos == ["paso_000005.pth", "paso_000006.pth"]  # --conservar 2
    assert (salida / "mejor.pth").is_file()
    assert (salida / "perdidas.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    filas = read_log(salida / "registro.csv")
    assert [f["paso"] for f in filas] == [1, 2, 3, 4, 5, 6]
    assert [f["tokens"] for f in filas] == [64 * k for k in range(1, 7)]  # 4 ventanas × 16 tokens por paso
    assert [f["perdida_validacion"] is not None for f in filas] == [False, True, False, True, False, True]
    # La tasa: calentamiento lineal desde lr_min (0.00004) en 2 pasos y coseno hasta lr_min
    lrs = [f["lr"] for f in filas]
    assert lrs[0] == pytest.approx(4e-5) and lrs[1] == pytest.approx(4e-5 + 3.6e-4 / 2)
    assert lrs[2] == pytest.approx(4e-4) and lrs[-1] < lrs[2]
    # El mejor punto de control es el de menor pérdida de validación
    mejor = torch.load(salida / "mejor.pth", weights_only=True)
    validaciones = {f["paso"]: f["perdida_validacion"] for f in filas if f["perdida_validacion"] is not None}
    assert mejor["step"] == min(validaciones, key=validaciones.get)
    assert mejor["best_val"] == pytest.approx(min(validaciones.values()))


def test_la_cache_de_tokens_se_reutiliza(corpus, tmp_path, capsys):
    cache = tmp_path / "cache"
    for salida, esperado in (("s1", "tokenizados ahora"), ("s2", "ya tokenizados")):
        main(_argumentos(corpus, tmp_path / salida, _config(tmp_path, SIN_DROPOUT), "--pasos", "1", "--cache",
                         str(cache)))
        assert esperado in capsys.readouterr().out


def test_el_camino_rapido_da_las_mismas_perdidas(corpus, tmp_path):
    cfg = _config(tmp_path, SIN_DROPOUT)
    comun = ("--pasos", "4", "--eval-cada", "2", "--lote", "4")
    assert main(_argumentos(corpus, tmp_path / "normal", cfg, *comun)) == 0
    assert main(_argumentos(corpus, tmp_path / "rapido", cfg, *comun, "--rapido", "--precision", "fp32")) == 0
    normal, rapido = read_log(tmp_path / "normal" / "registro.csv"), read_log(tmp_path / "rapido" / "registro.csv")
    for a, b in zip(normal, rapido, strict=True):
        assert b["perdida_entrenamiento"] == pytest.approx(a["perdida_entrenamiento"], rel=1e-5)


# --- Reanudar exactamente --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sin_interrumpir(corpus, tmp_path_factory):
    """Un entrenamiento de 8 pasos con dropout, de principio a fin: la referencia de las reanudaciones."""
    carpeta = tmp_path_factory.mktemp("sin_interrumpir")
    cfg = _config(carpeta, CON_DROPOUT)
    assert main(_argumentos(corpus, carpeta / "salida", cfg, *_REANUDAR)) == 0
    return cfg, _pesos(carpeta / "salida", 8), read_log(carpeta / "salida" / "registro.csv")


_REANUDAR = ("--pasos", "8", "--eval-cada", "3", "--guardar-cada", "2", "--lote", "2", "--acumulacion", "2")


def _falla_en(paso_malo: int, accion):
    """Un lr_at_step que ejecuta `accion` al empezar el paso `paso_malo` (0, 1, ...)."""
    original = trainGPT.lr_at_step

    def lr_at_step(step, *args):
        if step == paso_malo:
            accion()
        return original(step, *args)
    return lr_at_step


def test_reanudar_tras_ctrl_c_da_los_mismos_pesos(corpus, tmp_path, sin_interrumpir, monkeypatch, capsys):
    cfg, pesos_ref, filas_ref = sin_interrumpir
    salida = tmp_path / "salida"
    # Un Ctrl-C de verdad (SIGINT a este proceso) mientras empieza el paso 5: termina ese paso, guarda y sale
    monkeypatch.setattr(trainGPT, "lr_at_step", _falla_en(4, lambda: os.kill(os.getpid(), signal.SIGINT)))
    assert main(_argumentos(corpus, salida, cfg, *_REANUDAR)) == INTERRUPTED_EXIT
    assert "Interrumpido en el paso 5 de 8" in capsys.readouterr().out
    assert (salida / "puntos_de_control" / "paso_000005.pth").is_file()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # el manejador de siempre, restaurado
    monkeypatch.undo()

    assert main(_argumentos(corpus, salida, cfg, *_REANUDAR, "--reanudar")) == 0
    assert "Reanudo desde" in capsys.readouterr().out
    pesos = _pesos(salida, 8)
    assert all(torch.equal(pesos[k], pesos_ref[k]) for k in pesos_ref)  # idénticos, bit a bit
    assert _sin_tiempos(read_log(salida / "registro.csv")) == _sin_tiempos(filas_ref)


def test_reanudar_tras_un_fallo_da_los_mismos_pesos(corpus, tmp_path, sin_interrumpir, monkeypatch):
    cfg, pesos_ref, filas_ref = sin_interrumpir
    salida = tmp_path / "salida"

    def fallo():
        raise RuntimeError("fallo simulado")
    # Un fallo a mitad (sin guardar nada): se pierden los pasos desde el último punto de control, el del paso 4
    monkeypatch.setattr(trainGPT, "lr_at_step", _falla_en(5, fallo))
    with pytest.raises(RuntimeError, match="fallo simulado"):
        main(_argumentos(corpus, salida, cfg, *_REANUDAR))
    monkeypatch.undo()
    assert [f["paso"] for f in read_log(salida / "registro.csv")] == [1, 2, 3, 4, 5]

    assert main(_argumentos(corpus, salida, cfg, *_REANUDAR, "--reanudar")) == 0
    pesos = _pesos(salida, 8)
    assert all(torch.equal(pesos[k], pesos_ref[k]) for k in pesos_ref)
    assert _sin_tiempos(read_log(salida / "registro.csv")) == _sin_tiempos(filas_ref)  # el paso 5 no sale dos veces


def test_ctrl_c_en_un_proceso_aparte(corpus, tmp_path):
    """El programa de verdad, parado con SIGINT mientras entrena: sale con 130 y deja un punto de control."""
    salida = tmp_path / "salida"
    orden = [sys.executable, "-m", "seccion05.trainGPT",
             *_argumentos(corpus, salida, _config(tmp_path, SIN_DROPOUT), "--pasos", "100000")]
    proceso = subprocess.Popen(orden, cwd=RAIZ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "OMP_NUM_THREADS": "1"})
    limite = time.monotonic() + 120
    while len(read_log(salida / "registro.csv")) < 3:
        assert proceso.poll() is None and time.monotonic() < limite, proceso.communicate()
        time.sleep(0.2)
    proceso.send_signal(signal.SIGINT)
    salida_texto, errores = proceso.communicate(timeout=120)
    assert proceso.returncode == INTERRUPTED_EXIT, errores
    assert "Parando: termino este paso" in errores and "Traceback" not in errores
    assert "Interrumpido en el paso" in salida_texto and "--reanudar" in salida_texto
    paso = read_log(salida / "registro.csv")[-1]["paso"]
    assert torch.load(salida / "puntos_de_control" / f"paso_{paso:06d}.pth", weights_only=True)["step"] == paso


def test_reanudar_con_otros_argumentos_es_un_error(corpus, tmp_path, capsys):
    cfg = _config(tmp_path, SIN_DROPOUT)
    salida = tmp_path / "salida"
    assert main(_argumentos(corpus, salida, cfg, "--pasos", "2")) == 0
    capsys.readouterr()
    assert main(_argumentos(corpus, salida, cfg, "--pasos", "2", "--lote", "3", "--reanudar")) == 2
    error = capsys.readouterr().err
    assert "no puedo reanudar exactamente" in error and "lote: 2 al guardar, 3 ahora" in error
    # Sin --reanudar no pisa un entrenamiento que ya existe
    assert main(_argumentos(corpus, salida, cfg, "--pasos", "2")) == 2
    assert "Añade --reanudar" in capsys.readouterr().err
    # --reanudar sin nada que reanudar
    assert main(_argumentos(corpus, tmp_path / "vacia", cfg, "--pasos", "2", "--reanudar")) == 2
    assert "no hay ningún punto de control" in capsys.readouterr().err


# --- Varios procesos con torchrun ------------------------------------------------------------------------------

_DDP = ("--pasos", "6", "--eval-cada", "3", "--calentamiento", "2", "--lr-max", "0.001")
_ENTORNO = {**os.environ, "OMP_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def un_proceso(corpus, tmp_path_factory):
    """La referencia de los repartos: un solo proceso con lote 8 (sin dropout: cada proceso tendría sus máscaras)."""
    carpeta = tmp_path_factory.mktemp("un_proceso")
    cfg = _config(carpeta, SIN_DROPOUT)
    uno = subprocess.run([sys.executable, "-m", "seccion05.trainGPT",
                          *_argumentos(corpus, carpeta / "salida", cfg, *_DDP, "--lote", "8")],
                         cwd=RAIZ, env=_ENTORNO, capture_output=True, text=True, timeout=300)
    assert uno.returncode == 0, uno.stderr
    return cfg, carpeta / "salida"


def _como_un_proceso(un_proceso, salida: Path) -> None:
    """Los pesos y el registro de `salida` son los de un solo proceso con el mismo lote global.

    Tolerancias: los gradientes se suman en otro orden (entre procesos y entre lotes acumulados), así que los pesos
    difieren en el redondeo, ~3e-7 tras 6 pasos.
    """
    _, salida_uno = un_proceso
    pesos_uno, pesos = _pesos(salida_uno, 6), _pesos(salida, 6)
    for k in pesos_uno:
        torch.testing.assert_close(pesos[k], pesos_uno[k], rtol=0, atol=1e-5)
    filas_uno, filas = read_log(salida_uno / "registro.csv"), read_log(salida / "registro.csv")
    assert [f["tokens"] for f in filas] == [f["tokens"] for f in filas_uno]
    for a, b in zip(filas_uno, filas, strict=True):
        for columna in ("perdida_entrenamiento", "perdida_validacion", "norma_gradiente", "lr"):
            if a[columna] is None:
                assert b[columna] is None
            else:
                assert b[columna] == pytest.approx(a[columna], rel=1e-6), columna
    # Y no por casualidad: de un paso al siguiente, las pérdidas cambian más que esa tolerancia
    assert filas_uno[1]["perdida_entrenamiento"] != pytest.approx(filas_uno[0]["perdida_entrenamiento"], rel=1e-6)


def test_torchrun_con_dos_procesos_da_lo_mismo_que_uno(corpus, tmp_path, un_proceso):
    """2 procesos × lote 2 × acumulación 2 frente a 1 proceso × lote 8: el mismo lote global, las mismas ventanas."""
    cfg, _ = un_proceso
    dos = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                          "-m", "seccion05.trainGPT",
                          *_argumentos(corpus, tmp_path / "dos", cfg, *_DDP, "--lote", "2", "--acumulacion", "2")],
                         cwd=RAIZ, env=_ENTORNO, capture_output=True, text=True, timeout=300)
    assert dos.returncode == 0, dos.stderr
    assert "Los pesos coinciden en los 2 procesos" in dos.stdout  # cada proceso compara su huella de los pesos
    assert dos.stdout.count("paso 6/6") == 1  # solo escribe el proceso 0
    assert "× 2 procesos" in dos.stdout
    _como_un_proceso(un_proceso, tmp_path / "dos")


def test_torchrun_con_dos_maquinas_da_lo_mismo_que_uno(corpus, tmp_path, un_proceso):
    """Dos «máquinas» (dos torchrun con --nnodes=2 y rendezvous c10d, aquí en el mismo equipo), un proceso cada una,
    lote 4: otra vez el lote global de 8. Cada máquina tokeniza por su cuenta (su proceso de local_rank 0)."""
    cfg, _ = un_proceso
    with socket.socket() as s:  # un puerto libre para el rendezvous
        s.bind(("localhost", 0))
        puerto = s.getsockname()[1]
    maquinas = [
        subprocess.Popen([sys.executable, "-m", "torch.distributed.run", "--nnodes=2", "--nproc_per_node=1",
                          f"--node_rank={n}", "--rdzv-backend=c10d", f"--rdzv-endpoint=localhost:{puerto}",
                          "-m", "seccion05.trainGPT",
                          *_argumentos(corpus, tmp_path / "dos_maquinas", cfg, *_DDP, "--lote", "4")],
                         cwd=RAIZ, env=_ENTORNO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for n in (0, 1)
    ]
    salidas = [m.communicate(timeout=300) for m in maquinas]
    assert all(m.returncode == 0 for m in maquinas), [e for _, e in salidas]
    textos = "".join(o for o, _ in salidas)
    assert "Los pesos coinciden en los 2 procesos" in textos and textos.count("paso 6/6") == 1
    _como_un_proceso(un_proceso, tmp_path / "dos_maquinas")


def test_torchrun_reanuda_exactamente(corpus, tmp_path):
    """Con dropout y dos procesos, cada uno con su estado aleatorio: se borra el punto de control del final (como si
    el entrenamiento se hubiera cortado tras el paso 3) y se reanuda desde el del paso 3."""
    cfg = _config(tmp_path, CON_DROPOUT)
    salida = tmp_path / "salida"
    orden = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
             "-m", "seccion05.trainGPT",
             *_argumentos(corpus, salida, cfg, *_DDP, "--lote", "2", "--guardar-cada", "3")]
    primera = subprocess.run(orden, cwd=RAIZ, env=_ENTORNO, capture_output=True, text=True, timeout=300)
    assert primera.returncode == 0, primera.stderr
    pesos_ref = _pesos(salida, 6)
    (salida / "puntos_de_control" / "paso_000006.pth").unlink()
    segunda = subprocess.run([*orden, "--reanudar"], cwd=RAIZ, env=_ENTORNO, capture_output=True, text=True,
                             timeout=300)
    assert segunda.returncode == 0, segunda.stderr
    assert "Reanudo desde" in segunda.stdout and "(paso 3 de 6)" in segunda.stdout
    pesos = _pesos(salida, 6)
    assert all(torch.equal(pesos[k], pesos_ref[k]) for k in pesos_ref)


# --- Errores antes de entrenar ---------------------------------------------------------------------------------

def _error(capsys, argv) -> str:
    """El mensaje de error de `main(argv)`, que tiene que salir con el código 2."""
    try:
        codigo = main(argv)
    except SystemExit as salida:  # los de argparse
        codigo = salida.code
    assert codigo == 2
    return capsys.readouterr().err


def test_errores_de_los_datos(tmp_path, capsys):
    cfg = _config(tmp_path, SIN_DROPOUT)
    vacia = tmp_path / "vacia"
    vacia.mkdir()
    (vacia / ".oculto.txt").write_text("no cuenta", encoding="utf-8")
    assert "no tiene ningún archivo de texto" in _error(capsys, _argumentos(vacia, tmp_path / "s1", cfg))
    assert "No existe la carpeta de datos" in _error(capsys, _argumentos(tmp_path / "no", tmp_path / "s2", cfg))

    latin1 = tmp_path / "latin1"
    latin1.mkdir()
    (latin1 / "bien.txt").write_text("Hola. " * 500, encoding="utf-8")
    (latin1 / "mal.txt").write_bytes("Canción".encode("latin-1"))
    error = _error(capsys, _argumentos(latin1, tmp_path / "s3", cfg))
    assert "mal.txt no es texto UTF-8: el byte 5 (b'\\xf3')" in error

    corto = tmp_path / "corto"
    corto.mkdir()
    (corto / "a.txt").write_text("Every effort moves you. " * 6, encoding="utf-8")  # 31 tokens
    error = _error(capsys, _argumentos(corto, tmp_path / "s4", cfg))
    assert "Hace falta al menos una ventana de validación, es decir, 17 tokens" in error
    (corto / "a.txt").write_text("Every effort moves you. " * 8, encoding="utf-8")  # 41 tokens, 42 con el final
    error = _error(capsys, _argumentos(corto, tmp_path / "s5", cfg, "--validacion", "0.5", "--lote", "2"))
    assert "Cada paso necesita lote × acumulación × procesos = 2 × 1 × 1 = 2 ventanas" in error
    for carpeta in ("s1", "s2", "s3", "s4", "s5"):  # nada de entrenamiento empezado
        assert not (tmp_path / carpeta / "registro.csv").exists()
        assert not (tmp_path / carpeta / "puntos_de_control").exists()


@pytest.mark.parametrize(("argumentos", "mensaje"), [
    (["--lote", "0"], "--lote tiene que ser un entero mayor o igual que 1 y has escrito 0"),
    (["--lote", "dos"], "--lote tiene que ser un número entero y has escrito 'dos'"),
    (["--lr-max", "0"], "--lr-max tiene que ser un número mayor que 0 y has escrito 0"),
    (["--lr-max", "nan"], "--lr-max tiene que ser un número mayor que 0 y has escrito nan"),
    (["--lr-max", "1e-3", "--lr-min", "1e-2"], "--lr-min (0.01) no puede ser mayor que --lr-max (0.001)"),
    (["--epocas", "2", "--pasos", "10"], "--pasos y --epocas no pueden ir juntos"),
    (["--validacion", "0.9"], "--validacion tiene que ser un número mayor que 0 y menor o igual que 0.5"),
    (["--modelo", "enorme"], "--modelo enorme: no es un tamaño conocido (124M, pequeño, diminuto)"),
    (["--precision", "bf16"], "--precision bf16 solo vale con --rapido"),
    (["--precision", "fp8", "--rapido"], "--precision no admite 'fp8'; elige entre 'fp32', 'bf16', 'auto'"),
    (["--dispositivo", "tpu"], "--dispositivo no admite 'tpu'"),
    (["--recorte", "-1"], "--recorte tiene que ser un número mayor o igual que 0 y has escrito -1"),
    (["--desconocido"], "no conozco estos argumentos: --desconocido"),
    (["--pasos", "3", "--calentamiento", "3"], "--calentamiento 3 con 3 pasos"),
])
def test_errores_de_los_argumentos(corpus, tmp_path, capsys, argumentos, mensaje):
    error = _error(capsys, ["--datos", str(corpus), "--salida", str(tmp_path / "s"), "--sin-barra", *argumentos])
    assert mensaje in error
    assert "usage" not in error and "invalid" not in error  # nada de argparse sin traducir
    assert not (tmp_path / "s" / "puntos_de_control").exists()


def test_faltan_argumentos_y_json_malos(tmp_path, capsys):
    assert "faltan estos argumentos: --datos, --salida" in _error(capsys, [])
    malo = tmp_path / "malo.json"
    malo.write_text("{no es json", encoding="utf-8")
    assert "malo.json no es un JSON válido" in _error(capsys, ["--datos", ".", "--salida", "s", "--modelo", str(malo)])
    incompleto = tmp_path / "incompleto.json"
    incompleto.write_text(json.dumps({"emb_dim": 16}), encoding="utf-8")
    error = _error(capsys, ["--datos", ".", "--salida", "s", "--modelo", str(incompleto)])
    assert "le faltan estas claves: vocab_size" in error
    impar = tmp_path / "impar.json"
    impar.write_text(json.dumps({**SIN_DROPOUT, "n_heads": 3}), encoding="utf-8")
    assert "emb_dim=16 tiene que ser divisible entre n_heads=3" in _error(
        capsys, ["--datos", ".", "--salida", "s", "--modelo", str(impar)])
    otro_vocabulario = tmp_path / "vocab.json"
    otro_vocabulario.write_text(json.dumps({**SIN_DROPOUT, "vocab_size": 1000}), encoding="utf-8")
    assert "el tokenizador del curso (el de GPT-2) tiene 50257 tokens" in _error(
        capsys, ["--datos", ".", "--salida", "s", "--modelo", str(otro_vocabulario)])


def test_la_ayuda_esta_en_espanol(capsys):
    with pytest.raises(SystemExit) as salida:
        main(["--help"])
    assert salida.value.code == 0
    ayuda = capsys.readouterr().out
    assert ayuda.startswith("uso: python -m seccion05.trainGPT")
    for texto in ("muestra esta ayuda y termina", "--reanudar", "--acumulacion", "torchrun", "evaluación y salida"):
        assert texto in ayuda
    for ingles in ("usage:", "options:", "show this help", "positional arguments"):
        assert ingles not in ayuda
