"""Programa de entrenamiento: `python -m seccion05.trainGPT --datos CARPETA --salida CARPETA [...]`.

Entrena `GPTModel` (o `GPTModelFast` con `--rapido`) con los archivos de texto de una carpeta, con lo que enseña el
cuaderno 7 de la sección 5: calentamiento lineal, decaimiento coseno (`lr_at_step`) y recorte de gradientes.
Lo que hace por ti:
- tokeniza la carpeta una vez (`tokenCache.tokenize_folder`) y separa entrenamiento y validación siempre igual;
- barra de progreso con la pérdida, los tokens/s y el tiempo que falta; una línea por evaluación; un registro CSV
  (`registro.csv`) y, al final, la figura de las pérdidas (`perdidas.png`);
- puntos de control cada `--guardar-cada` pasos y al final (`puntos_de_control/paso_NNNNNN.pth`, los `--conservar`
  últimos, y `mejor.pth`, el de menor pérdida de validación), con el guardado atómico del curso;
- `--reanudar` sigue exactamente donde se quedó (pesos, optimizador, paso, posición en los datos y estado aleatorio):
  el resultado es el mismo que sin interrupción;
- Ctrl-C (o SIGTERM) termina el paso en curso, guarda un punto de control y sale con el código 130;
- con `torchrun --nproc_per_node=N` reparte los lotes entre N procesos (DistributedDataParallel: `gloo` en CPU,
  `nccl` en GPU); el lote global es lote × acumulación × procesos y solo el proceso 0 escribe.

Los argumentos y sus errores están en `trainGPTArgs.py` (`python -m seccion05.trainGPT --help`).
No es una biblioteca de entrenamiento general: un modelo, un optimizador (AdamW) y un corpus de texto.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import os
import re
import signal
import sys
import threading
import time
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DistributedSampler

from seccion02_TrabajarDatosTexto.atomicWrite import atomic_write
from seccion02_TrabajarDatosTexto.comprobarEjercicio import miles
from seccion04_ImplementacionGPTGeneracionTexto.getDevice import get_device
from seccion04_ImplementacionGPTGeneracionTexto.gptModel import GPTModel
from seccion05.calcLoss import calc_loss_batch
from seccion05.fastAdamW import fast_adamw
from seccion05.gptModelFast import GPTModelFast
from seccion05.saveLoadModel import load_checkpoint, load_torch_file, save_checkpoint
from seccion05.tokenCache import TokenWindows, split_point, tokenize_folder
from seccion05.trainGPTArgs import parse_args
from seccion05.trainModel import check_schedule_args, gradient_norm, lr_at_step

CHECKPOINTS = "puntos_de_control"  # subcarpeta de --salida
BEST = "mejor.pth"
LOG = "registro.csv"
PLOT = "perdidas.png"
LOG_COLUMNS = ("paso", "epoca", "tokens", "lr", "perdida_entrenamiento", "perdida_validacion", "norma_gradiente",
               "tokens_por_segundo")
INTERRUPTED_EXIT = 130  # el código de salida habitual de un programa parado con Ctrl-C
_PASO = re.compile(r"paso_(\d+)\.pth")


class TrainingError(Exception):
    """Un problema con los datos, el dispositivo o la carpeta de salida, detectado antes de entrenar."""


def main(argv: list[str] | None = None) -> int:
    """Lee los argumentos, entrena y devuelve el código de salida (0 si termina, 130 si se interrumpe, 2 si hay
    un error en los datos o los argumentos)."""
    args = parse_args(argv)
    procesos = None
    try:
        procesos = _Procesos(args.dispositivo)
        return _Entrenamiento(args, procesos).run()
    except TrainingError as exc:
        if procesos is None or procesos.rank == 0 or procesos.own_error:
            print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nInterrumpido: salgo sin guardar nada nuevo (los puntos de control ya guardados siguen ahí).",
              file=sys.stderr)
        return INTERRUPTED_EXIT
    finally:
        if procesos is not None:
            procesos.close()


class _Procesos:
    """Este proceso dentro del grupo: `rank`, `local_rank`, `world_size`, `device` y `distributed`."""

    def __init__(self, dispositivo: str):
        self.world_size = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        self.distributed = self.world_size > 1
        self.own_error = False  # True si el error lo ha encontrado este proceso (y no otro)
        if dispositivo == "cuda" and not torch.cuda.is_available():
            raise TrainingError("has pedido --dispositivo cuda, pero PyTorch no encuentra ninguna GPU CUDA aquí.")
        if dispositivo == "mps" and not torch.backends.mps.is_available():
            raise TrainingError("has pedido --dispositivo mps, pero este equipo no tiene una GPU de Apple disponible.")
        device = get_device(None if dispositivo == "auto" else dispositivo)
        if self.distributed:
            if device.type == "cuda":
                device = torch.device("cuda", self.local_rank)
                torch.cuda.set_device(device)
            elif device.type == "mps":
                raise TrainingError("varios procesos no pueden compartir la GPU de Apple (MPS): usa --dispositivo cpu.")
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        self.device = device

    def all_ok(self, ok: bool) -> bool:
        """True si todos los procesos dicen `ok`. Sirve también de barrera."""
        return self._reducir(ok, "MIN")

    def any(self, flag: bool) -> bool:
        """True si algún proceso dice `flag` (por ejemplo, que le ha llegado un Ctrl-C)."""
        return self._reducir(flag, "MAX")

    def _reducir(self, valor: bool, op: str) -> bool:
        if not self.distributed:
            return valor
        t = torch.tensor([int(valor)], device=self.device)
        dist.all_reduce(t, op=getattr(dist.ReduceOp, op))
        return bool(t.item())

    def sum(self, valores: list[float]) -> list[float]:
        """La suma, entre todos los procesos, de cada número de `valores`."""
        if not self.distributed:
            return list(valores)
        t = torch.tensor(valores, dtype=torch.float64, device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        return t.tolist()

    def gather(self, obj) -> list:
        """La lista de los `obj` de todos los procesos, en orden de rank."""
        if not self.distributed:
            return [obj]
        todos = [None] * self.world_size
        dist.all_gather_object(todos, obj)
        return todos

    def close(self) -> None:
        if self.distributed and dist.is_initialized():
            dist.destroy_process_group()


class _Parada:
    """Convierte el primer Ctrl-C (SIGINT) o SIGTERM en una petición de parar tras el paso en curso."""

    def __init__(self, avisar: bool):
        self.pedida, self.avisar, self._antes = False, avisar, {}
        if threading.current_thread() is threading.main_thread():  # signal solo se puede usar en el hilo principal
            self._antes = {s: signal.signal(s, self._manejar) for s in (signal.SIGINT, signal.SIGTERM)}

    def _manejar(self, signum, frame):
        if self.pedida:  # el segundo: salir ya
            raise KeyboardInterrupt
        self.pedida = True
        if self.avisar:
            print("\nParando: termino este paso, guardo un punto de control y salgo (otro Ctrl-C sale sin guardar).",
                  file=sys.stderr, flush=True)

    def restore(self) -> None:
        for s, manejador in self._antes.items():
            signal.signal(s, manejador)


class _Entrenamiento:
    """Todo lo de una ejecución: datos, modelo, optimizador, bucle, registro y puntos de control."""

    def __init__(self, args, procesos: _Procesos):
        self.args, self.p = args, procesos
        self.main_process = procesos.rank == 0
        self.cfg = args.config
        self.salida = Path(args.salida)
        self.carpeta_puntos = self.salida / CHECKPOINTS
        self._preparar_datos()
        self._preparar_pasos()
        self._preparar_modelo()

    # --- Preparación (todo error sale aquí, antes del primer paso) -------------------------------------------
    def _preparar_datos(self) -> None:
        args, p = self.args, self.p
        corpus, error = None, None
        if p.local_rank == 0:  # uno por máquina tokeniza; los demás esperan y leen la caché
            try:
                corpus = tokenize_folder(args.datos, args.cache, progress=self.main_process and not args.sin_barra)
            except (OSError, ValueError) as exc:
                error = exc
        if not p.all_ok(error is None):
            p.own_error = error is not None
            raise TrainingError(str(error) if error else "otro proceso no ha podido leer los datos.")
        if corpus is None:
            corpus = tokenize_folder(args.datos, args.cache, progress=False)
        if len(set(p.gather(corpus.sha256))) > 1:
            raise TrainingError("los procesos no ven los mismos datos: la carpeta --datos es distinta en alguna máquina.")
        self.corpus = corpus
        ctx = self.cfg["context_length"]
        corte = split_point(len(corpus), args.validacion)
        self.train_ds = TokenWindows(corpus.ids, 0, corte, ctx)
        self.val_ds = TokenWindows(corpus.ids, corte, len(corpus), ctx)
        por_paso = args.lote * args.acumulacion * p.world_size
        tokens = (f"Los datos tienen {miles(len(corpus))} tokens: {miles(corte)} para entrenar "
                  f"({len(self.train_ds)} ventanas de {ctx} + 1) y {miles(len(corpus) - corte)} para validar "
                  f"({len(self.val_ds)} ventanas)")
        if len(self.val_ds) == 0:
            raise TrainingError(
                f"{tokens}. Hace falta al menos una ventana de validación, es decir, {ctx + 1} tokens en el último "
                f"{args.validacion * 100:g} % del texto: usa un texto más largo, una --validacion mayor o un --contexto menor."
            )
        if len(self.train_ds) < por_paso:
            raise TrainingError(
                f"{tokens}. Cada paso necesita lote × acumulación × procesos = {args.lote} × {args.acumulacion} × "
                f"{p.world_size} = {por_paso} ventanas de entrenamiento: usa un texto más largo, un --contexto menor o "
                "un lote menor."
            )

    def _preparar_pasos(self) -> None:
        args, p = self.args, self.p
        self.sampler = DistributedSampler(self.train_ds, num_replicas=p.world_size, rank=p.rank, shuffle=True,
                                          seed=args.semilla, drop_last=True)
        self.steps_per_epoch = len(self.sampler) // args.lote // args.acumulacion
        self.total_steps = args.pasos if args.pasos is not None else args.epocas * self.steps_per_epoch
        self.warmup = args.calentamiento if args.calentamiento is not None else self.total_steps // 10
        try:
            check_schedule_args(self.total_steps, self.warmup, args.lr_max, args.lr_min, args.lr_min)
        except ValueError as exc:
            raise TrainingError(f"--calentamiento {self.warmup} con {self.total_steps} pasos: {exc}") from None
        self.tokens_per_step = args.lote * args.acumulacion * p.world_size * self.cfg["context_length"]
        self._orden_epoca = (None, None)

    def _preparar_modelo(self) -> None:
        args, p = self.args, self.p
        torch.manual_seed(args.semilla)  # los mismos pesos iniciales en todos los procesos
        if args.rapido:
            model = GPTModelFast(self.cfg, precision=args.precision).to(p.device)
            try:
                model.dtype_autocast(p.device)  # con --precision bf16 donde no funciona, el error sale ya
            except RuntimeError as exc:
                raise TrainingError(str(exc)) from None
            optimizer = fast_adamw(model.parameters(), lr=args.lr_max, weight_decay=args.weight_decay)
        else:
            model = GPTModel(self.cfg).to(p.device)
            optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr_max, weight_decay=args.weight_decay)
        torch.manual_seed(args.semilla + p.rank)  # dropout distinto en cada proceso, como lotes distintos
        self.model, self.optimizer = model, optimizer
        self.step, self.best_val = 0, None
        self.settings = self._ajustes()
        ultimo = _ultimo_punto(self.carpeta_puntos)
        if args.reanudar:
            if ultimo is None:
                raise TrainingError(f"--reanudar: no hay ningún punto de control en {self.carpeta_puntos}.")
            self._reanudar(ultimo)
        elif ultimo is not None:
            raise TrainingError(
                f"{self.salida} ya tiene puntos de control (el último, {ultimo.name}). Añade --reanudar para seguir "
                "desde él, o elige otra carpeta de --salida para empezar de cero."
            )
        self.ddp = (DistributedDataParallel(model, device_ids=[p.device] if p.device.type == "cuda" else None)
                    if p.distributed else model)

    def _ajustes(self) -> dict:
        """Lo que fija la trayectoria del entrenamiento: para reanudar exactamente tiene que ser igual."""
        a = self.args
        return {"config": dict(self.cfg), "lote": a.lote, "acumulacion": a.acumulacion, "procesos": self.p.world_size,
                "pasos": self.total_steps, "calentamiento": self.warmup, "lr_max": a.lr_max, "lr_min": a.lr_min,
                "recorte": a.recorte, "weight_decay": a.weight_decay, "semilla": a.semilla, "rapido": a.rapido,
                "precision": a.precision, "validacion": a.validacion, "datos_sha256": self.corpus.sha256}

    def _reanudar(self, ruta: Path) -> None:
        guardado = load_torch_file(ruta, map_location="cpu")
        antes = guardado.get("settings", {}) if isinstance(guardado, dict) else {}
        distintos = [k for k in self.settings if antes.get(k) != self.settings[k]]
        if distintos:
            detalle = "; ".join(f"{k}: {_corto(antes.get(k))} al guardar, {_corto(self.settings[k])} ahora"
                                for k in distintos)
            raise TrainingError(
                f"no puedo reanudar exactamente desde {ruta}: {detalle}. Usa los mismos argumentos (y los mismos "
                "datos) que al empezar, o elige otra carpeta de --salida para empezar de cero."
            )
        load_checkpoint(ruta, self.model, self.optimizer)
        self.step, self.best_val = guardado["step"], guardado.get("best_val")
        estado = guardado["rng_states"][self.p.rank]
        torch.set_rng_state(estado["cpu"])
        if "cuda" in estado and self.p.device.type == "cuda":
            torch.cuda.set_rng_state(estado["cuda"], self.p.device)
        if self.main_process:
            print(f"Reanudo desde {ruta} (paso {self.step} de {self.total_steps}).", flush=True)

    # --- El bucle --------------------------------------------------------------------------------------------
    def run(self) -> int:
        from tqdm.auto import tqdm

        args = self.args
        if self.main_process:
            self._presentar()
            self.registro = _Registro(self.salida / LOG, self.step)
        parada = _Parada(avisar=self.main_process)
        barra = tqdm(total=self.total_steps, initial=self.step, desc="Entrenando", unit="paso", dynamic_ncols=True,
                     disable=not self.main_process or args.sin_barra)
        try:
            while self.step < self.total_steps:
                fila = self._un_paso()
                barra.update(1)
                barra.set_postfix_str(f"pérdida {fila['perdida_entrenamiento']:.3f}, "
                                      f"{miles(round(fila['tokens_por_segundo']))} tokens/s")
                parar = self.p.any(parada.pedida)
                final = self.step == self.total_steps
                if self.step % args.eval_cada == 0 or final:
                    fila["perdida_validacion"] = self._evaluar()
                    if self.main_process:
                        barra.write(self._linea(fila))
                if self.main_process:
                    self.registro.add(fila)
                if self.step % args.guardar_cada == 0 or final or parar:
                    self._guardar(self.carpeta_puntos / f"paso_{self.step:06d}.pth")
                if parar and not final:
                    barra.close()
                    if self.main_process:
                        print(f"Interrumpido en el paso {self.step} de {self.total_steps}: guardado en "
                              f"{self.carpeta_puntos / f'paso_{self.step:06d}.pth'}. Para seguir, repite la orden "
                              "con --reanudar.", flush=True)
                    return INTERRUPTED_EXIT
        finally:
            barra.close()
            parada.restore()
        self._terminar()
        return 0

    def _un_paso(self) -> dict:
        """Un paso del optimizador con `acumulacion` lotes por proceso; devuelve la fila del registro."""
        args, p = self.args, self.p
        inicio = time.perf_counter()
        lr = lr_at_step(self.step, self.total_steps, self.warmup, args.lr_max, args.lr_min, args.lr_min)
        for grupo in self.optimizer.param_groups:
            grupo["lr"] = lr
        self.optimizer.zero_grad(set_to_none=True)
        epoca, j = divmod(self.step, self.steps_per_epoch)
        orden = self._orden(epoca)
        suma = torch.zeros((), device=p.device)
        for micro in range(args.acumulacion):
            k = (j * args.acumulacion + micro) * args.lote
            entradas, objetivos = self._lote(orden[k:k + args.lote])
            ultimo = micro == args.acumulacion - 1
            # DDP suma los gradientes entre procesos en cada backward; con no_sync, solo en el último lote
            sincronizar = contextlib.nullcontext() if ultimo or not p.distributed else self.ddp.no_sync()
            with sincronizar:
                loss = calc_loss_batch(entradas, objetivos, self.ddp, p.device) / args.acumulacion
                loss.backward()
            suma += loss.detach()
        if args.recorte > 0:
            norma = torch.nn.utils.clip_grad_norm_(self.model.parameters(), max_norm=args.recorte).item()
        else:
            norma = gradient_norm(self.model)
        self.optimizer.step()
        self.step += 1
        perdida = self.p.sum([suma.item()])[0] / p.world_size  # la media entre procesos
        segundos = time.perf_counter() - inicio
        return {"paso": self.step, "epoca": self.step / self.steps_per_epoch, "tokens": self.step * self.tokens_per_step,
                "lr": lr, "perdida_entrenamiento": perdida, "perdida_validacion": None, "norma_gradiente": norma,
                "tokens_por_segundo": self.tokens_per_step / segundos}

    def _orden(self, epoca: int) -> list[int]:
        """Las ventanas de este proceso en la época `epoca`, en el orden barajado de esa época (siempre el mismo)."""
        if self._orden_epoca[0] != epoca:
            self.sampler.set_epoch(epoca)
            self._orden_epoca = (epoca, list(self.sampler))
        return self._orden_epoca[1]

    def _lote(self, indices: list[int], ds: TokenWindows | None = None):
        pares = [(ds or self.train_ds)[i] for i in indices]
        return torch.stack([x for x, _ in pares]), torch.stack([y for _, y in pares])

    def _evaluar(self) -> float:
        """Pérdida media por token de las primeras `eval_lotes × lote` ventanas de validación (repartidas)."""
        args, p = self.args, self.p
        n = min(len(self.val_ds), args.eval_lotes * args.lote)
        mias = list(range(p.rank, n, p.world_size))
        total, cuantos = 0.0, 0
        self.model.eval()
        with torch.no_grad():
            for k in range(0, len(mias), args.lote):
                entradas, objetivos = self._lote(mias[k:k + args.lote], self.val_ds)
                logits = self.model(entradas.to(p.device))
                total += torch.nn.functional.cross_entropy(logits.flatten(0, 1), objetivos.to(p.device).flatten(),
                                                           reduction="sum").item()
                cuantos += objetivos.numel()
        self.model.train()
        total, cuantos = p.sum([total, cuantos])
        perdida = total / cuantos
        if self.best_val is None or perdida < self.best_val:
            self.best_val = perdida
            self._guardar(self.salida / BEST)
        return perdida

    def _guardar(self, ruta: Path) -> None:
        """Guarda un punto de control (solo el proceso 0 escribe; todos aportan su estado aleatorio)."""
        estado = {"cpu": torch.get_rng_state()}
        if self.p.device.type == "cuda":
            estado["cuda"] = torch.cuda.get_rng_state(self.p.device)
        estados = self.p.gather(estado)
        if not self.main_process:
            return
        save_checkpoint(ruta, self.model, self.optimizer, config=self.cfg, step=self.step, best_val=self.best_val,
                        settings=self.settings, rng_states=estados)
        if ruta.parent == self.carpeta_puntos:
            for viejo in _puntos(self.carpeta_puntos)[:-self.args.conservar]:
                viejo.unlink(missing_ok=True)

    # --- Mensajes --------------------------------------------------------------------------------------------
    def _presentar(self) -> None:
        a, p = self.args, self.p
        nombre = "GPTModelFast" if a.rapido else "GPTModel"
        n_param = sum(t.numel() for t in self.model.parameters())
        cache = "ya tokenizados" if self.corpus.reused else "tokenizados ahora"
        print(
            f"{nombre} ({a.modelo}, contexto {self.cfg['context_length']}): {n_param / 1e6:.1f} millones de "
            f"parámetros, en {p.device}{f' × {p.world_size} procesos' if p.distributed else ''}.\n"
            f"Datos: {_cuantos(len(self.corpus.files), 'archivo')}, {miles(len(self.corpus))} tokens ({cache}); "
            f"{len(self.train_ds)} ventanas de entrenamiento y {len(self.val_ds)} de validación.\n"
            f"{self.total_steps} pasos ({self.steps_per_epoch} por época) de {a.lote} × {a.acumulacion} × "
            f"{p.world_size} ventanas ({miles(self.tokens_per_step)} tokens); tasa de {a.lr_min:g} a {a.lr_max:g} "
            f"en {self.warmup} pasos y después coseno hasta {a.lr_min:g}; recorte "
            f"{f'a norma {a.recorte:g}' if a.recorte > 0 else 'desactivado'}.",
            flush=True,
        )

    def _linea(self, fila: dict) -> str:
        return (f"paso {fila['paso']}/{self.total_steps} (época {fila['epoca']:.2f}): pérdida de entrenamiento "
                f"{fila['perdida_entrenamiento']:.3f}, de validación {fila['perdida_validacion']:.3f}, "
                f"lr {fila['lr']:.2e}, {miles(round(fila['tokens_por_segundo']))} tokens/s")

    def _terminar(self) -> None:
        huellas = self.p.gather(_huella_pesos(self.model))
        if len(set(huellas)) > 1:
            raise RuntimeError("Los pesos no coinciden entre los procesos al terminar: DDP no los ha sincronizado.")
        if not self.main_process:
            return
        figura = _dibujar(self.registro.rows)
        with atomic_write(self.salida / PLOT) as f:
            f.write(figura)
        iguales = f" Los pesos coinciden en los {self.p.world_size} procesos." if self.p.distributed else ""
        print(f"Hecho: {self.total_steps} pasos; la mejor pérdida de validación, {self.best_val:.3f}, está en "
              f"{self.salida / BEST}; el modelo final, en {_ultimo_punto(self.carpeta_puntos)}; el registro, en "
              f"{self.salida / LOG}, y la figura, en {self.salida / PLOT}.{iguales}", flush=True)


class _Registro:
    """`registro.csv`: una fila por paso. Al reanudar conserva las filas hasta el punto de control y sigue."""

    def __init__(self, ruta: Path, desde_paso: int):
        self.ruta = ruta
        self.rows = [fila for fila in read_log(ruta) if fila["paso"] <= desde_paso] if desde_paso else []
        texto = io.StringIO()
        escritor = csv.writer(texto)
        escritor.writerow(LOG_COLUMNS)
        for fila in self.rows:
            escritor.writerow(_celdas(fila))
        with atomic_write(ruta) as f:
            f.write(texto.getvalue().encode("utf-8"))

    def add(self, fila: dict) -> None:
        self.rows.append(fila)
        with open(self.ruta, "a", encoding="utf-8", newline="") as f:
            csv.writer(f).writerow(_celdas(fila))


def _celdas(fila: dict) -> list[str]:
    return ["" if fila[c] is None else (f"{fila[c]:.9g}" if isinstance(fila[c], float) else str(fila[c]))
            for c in LOG_COLUMNS]


def read_log(ruta: str | os.PathLike) -> list[dict]:
    """Las filas de un `registro.csv` como diccionarios de números (None donde no hay valor)."""
    ruta = Path(ruta)
    if not ruta.is_file():
        return []
    with open(ruta, encoding="utf-8", newline="") as f:
        filas = list(csv.DictReader(f))
    enteros = ("paso", "tokens")
    return [{c: (None if f[c] == "" else int(f[c]) if c in enteros else float(f[c])) for c in LOG_COLUMNS}
            for f in filas]


def _puntos(carpeta: Path) -> list[Path]:
    """Los puntos de control `paso_NNNNNN.pth` de `carpeta`, del más antiguo al más reciente."""
    if not carpeta.is_dir():
        return []
    encontrados = [(int(m.group(1)), r) for r in carpeta.iterdir() if (m := _PASO.fullmatch(r.name))]
    return [r for _, r in sorted(encontrados)]


def _ultimo_punto(carpeta: Path) -> Path | None:
    puntos = _puntos(carpeta)
    return puntos[-1] if puntos else None


def _huella_pesos(model) -> str:
    """Una suma SHA-256 de todos los pesos: la misma en dos procesos si y solo si sus pesos son idénticos."""
    h = hashlib.sha256()
    for nombre, t in model.state_dict().items():
        h.update(nombre.encode())
        h.update(t.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def _cuantos(n: int, palabra: str) -> str:
    return f"{miles(n)} {palabra}" + ("" if n == 1 else "s")


def _corto(valor) -> str:
    texto = repr(valor)
    return texto if len(texto) <= 60 else texto[:57] + "..."


def _dibujar(filas: list[dict]) -> bytes:
    """La figura de `perdidas.png`: pérdidas de entrenamiento (cada paso) y de validación, y la tasa de aprendizaje."""
    import matplotlib as mpl
    from matplotlib.figure import Figure  # sin pyplot: funciona sin pantalla

    from imgs.figuras.estilo import ESTILO_GRAFICAS

    with mpl.rc_context(ESTILO_GRAFICAS):
        fig = Figure(figsize=(7, 5))
        arriba, abajo = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
        pasos = [f["paso"] for f in filas]
        arriba.plot(pasos, [f["perdida_entrenamiento"] for f in filas], alpha=0.5, label="Entrenamiento (cada paso)")
        val = [(f["paso"], f["perdida_validacion"]) for f in filas if f["perdida_validacion"] is not None]
        if val:
            arriba.plot(*zip(*val, strict=True), marker="o", linestyle="-.", label="Validación")
        arriba.set_ylabel("Pérdida")
        arriba.legend(loc="upper right")
        abajo.plot(pasos, [f["lr"] for f in filas])
        abajo.set_ylabel("Tasa")
        abajo.set_xlabel("Paso")
        abajo.ticklabel_format(axis="y", style="sci", scilimits=(0, 0))
        fig.tight_layout()
        datos = io.BytesIO()
        fig.savefig(datos, format="png", dpi=100)
    return datos.getvalue()


if __name__ == "__main__":
    sys.exit(main())
