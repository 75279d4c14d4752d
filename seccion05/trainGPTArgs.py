"""Los argumentos del programa de entrenamiento `python -m seccion05.trainGPT`: la ayuda y los errores, en español.

- `build_parser()`: el `argparse.ArgumentParser` con todas las opciones, agrupadas, y su ayuda (`--help`);
- `parse_args(argv)`: lee y comprueba los argumentos; todo error sale aquí, antes de cargar datos o modelos;
- `model_config_for(args)`: la configuración del modelo que piden `--modelo` y `--contexto`;
- `MODEL_SIZES`: los tamaños con nombre (`124M`, `pequeño`, `diminuto`).

Solo lee argumentos: no carga datos ni entrena (eso es `seccion05/trainGPT.py`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from seccion02_TrabajarDatosTexto.spanishArgumentParser import SpanishArgumentParser
from seccion04_ImplementacionGPTGeneracionTexto.checkConfig import check_config
from seccion04_ImplementacionGPTGeneracionTexto.gptConfig124M import GPT_CONFIG_124M
from seccion05.gptModelFast import PRECISIONS
from seccion05.trainModelSimple import CLASS_CONFIG

# Los tamaños con nombre. Todos usan el vocabulario de GPT-2 (el tokenizador del curso); el contexto lo fija
# --contexto (256 por defecto, como en los cuadernos).
MODEL_SIZES = {
    "124M": dict(GPT_CONFIG_124M),  # GPT-2 pequeño: 12 bloques, emb_dim 768, 124 millones de parámetros
    "pequeño": dict(CLASS_CONFIG),  # el del modo clase: 4 bloques, emb_dim 128 (unos 7 millones)
    "diminuto": {  # para probar el programa en segundos: 2 bloques, emb_dim 32
        "vocab_size": 50257,
        "context_length": 32,
        "emb_dim": 32,
        "n_heads": 2,
        "n_layers": 2,
        "drop_rate": 0.1,
        "qkv_bias": False,
    },
}
DEFAULT_CONTEXT = 256  # el contexto de los tamaños con nombre si no das --contexto
DEVICES = ("auto", "cpu", "cuda", "mps")


def _entero(minimo: int):
    def convertir(texto: str) -> int:
        try:
            valor = int(texto)
        except ValueError:
            raise argparse.ArgumentTypeError(f"tiene que ser un número entero y has escrito {texto!r}") from None
        if valor < minimo:
            raise argparse.ArgumentTypeError(f"tiene que ser un entero mayor o igual que {minimo} y has escrito {valor}")
        return valor
    return convertir


def _real(minimo: float, maximo: float | None = None, estricto: bool = False):
    def convertir(texto: str) -> float:
        try:
            valor = float(texto)
        except ValueError:
            raise argparse.ArgumentTypeError(f"tiene que ser un número (por ejemplo 0.0004) y has escrito {texto!r}") \
                from None
        fuera = (valor <= minimo if estricto else valor < minimo) or (maximo is not None and valor > maximo)
        if valor != valor or fuera:  # valor != valor: NaN
            rango = f"mayor que {minimo:g}" if estricto else f"mayor o igual que {minimo:g}"
            if maximo is not None:
                rango += f" y menor o igual que {maximo:g}"
            raise argparse.ArgumentTypeError(f"tiene que ser un número {rango} y has escrito {texto}")
        return valor
    return convertir


def build_parser() -> argparse.ArgumentParser:
    """El analizador de argumentos del programa, con la ayuda en español (`--help`)."""
    p = SpanishArgumentParser(
        prog="python -m seccion05.trainGPT",
        add_help=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Entrena un GPT (GPTModel, o GPTModelFast con --rapido) con los archivos de texto UTF-8 de una carpeta,\n"
            "con calentamiento, decaimiento coseno y recorte de gradientes. Guarda puntos de control, un registro\n"
            "CSV y una figura de las pérdidas en la carpeta de salida; Ctrl-C guarda y sale, y --reanudar sigue\n"
            "exactamente donde se quedó. Con torchrun se reparte entre varios procesos (CPU o GPU)."
        ),
        epilog=(
            "ejemplos:\n"
            "  python -m seccion05.trainGPT --datos txt/ --modelo pequeño --epocas 5 --salida entrenamientos/prueba\n"
            "  python -m seccion05.trainGPT --datos txt/ --modelo pequeño --epocas 5 --salida entrenamientos/prueba"
            " --reanudar\n"
            "  torchrun --standalone --nproc_per_node=4 -m seccion05.trainGPT --datos corpus/ --modelo 124M --pasos 5000"
        ),
    )
    datos = p.add_argument_group("datos")
    datos.add_argument("--datos", type=Path, required=True, metavar="CARPETA",
                       help="carpeta con tus archivos de texto en UTF-8 (también los de sus subcarpetas)")
    datos.add_argument("--validacion", type=_real(0.0, 0.5, estricto=True), default=0.1, metavar="FRACCIÓN",
                       help="qué parte final de los tokens se reserva para validar (por defecto: 0.1)")
    datos.add_argument("--cache", type=Path, default=None, metavar="CARPETA",
                       help="dónde guardar los textos ya tokenizados (por defecto: SALIDA/tokens)")

    modelo = p.add_argument_group("modelo")
    modelo.add_argument("--modelo", default="pequeño", metavar="TAMAÑO",
                        help=f"{', '.join(MODEL_SIZES)} o la ruta de una configuración JSON con las claves de "
                             "GPT_CONFIG_124M (por defecto: pequeño)")
    modelo.add_argument("--contexto", type=_entero(1), default=None, metavar="TOKENS",
                        help=f"longitud de contexto (por defecto: {DEFAULT_CONTEXT} con un tamaño con nombre, la del "
                             "JSON con una configuración)")
    modelo.add_argument("--rapido", action="store_true",
                        help="usa GPTModelFast (atención fusionada, bf16 donde acelera, AdamW fusionado)")
    modelo.add_argument("--precision", choices=PRECISIONS, default="auto",
                        help="precisión de GPTModelFast con --rapido (por defecto: auto)")

    entrenamiento = p.add_argument_group("entrenamiento")
    entrenamiento.add_argument("--lote", type=_entero(1), default=2, metavar="N",
                               help="ventanas por lote y por proceso (por defecto: 2)")
    entrenamiento.add_argument("--acumulacion", type=_entero(1), default=1, metavar="N",
                               help="lotes cuyos gradientes se suman antes de cada paso del optimizador (por defecto: 1)")
    duracion = entrenamiento.add_mutually_exclusive_group()
    duracion.add_argument("--epocas", type=_entero(1), default=None, metavar="N",
                          help="épocas: pasadas completas por los datos de entrenamiento (por defecto: 1)")
    duracion.add_argument("--pasos", type=_entero(1), default=None, metavar="N",
                          help="pasos del optimizador, en lugar de épocas")
    entrenamiento.add_argument("--lr-max", type=_real(0.0, estricto=True), default=4e-4, metavar="TASA",
                               help="tasa de aprendizaje máxima, al acabar el calentamiento (por defecto: 0.0004)")
    entrenamiento.add_argument("--lr-min", type=_real(0.0), default=None, metavar="TASA",
                               help="tasa del primer paso y del último (por defecto: la décima parte de --lr-max)")
    entrenamiento.add_argument("--calentamiento", type=_entero(0), default=None, metavar="PASOS",
                               help="pasos de calentamiento lineal (por defecto: el 10 %% de los pasos)")
    entrenamiento.add_argument("--recorte", type=_real(0.0), default=1.0, metavar="NORMA",
                               help="norma máxima de los gradientes; 0 para no recortar (por defecto: 1.0)")
    entrenamiento.add_argument("--weight-decay", type=_real(0.0), default=0.1, metavar="W",
                               help="decaimiento de pesos de AdamW (por defecto: 0.1)")
    entrenamiento.add_argument("--semilla", type=_entero(0), default=123, metavar="N",
                               help="semilla aleatoria: pesos iniciales, orden de los lotes, dropout (por defecto: 123)")
    entrenamiento.add_argument("--dispositivo", choices=DEVICES, default="auto",
                               help="dónde entrenar; auto: CUDA, después Apple MPS y si no la CPU (por defecto: auto)")

    salida = p.add_argument_group("evaluación y salida")
    salida.add_argument("--salida", type=Path, required=True, metavar="CARPETA",
                        help="carpeta de los puntos de control, el registro y la figura")
    salida.add_argument("--eval-cada", type=_entero(1), default=100, metavar="PASOS",
                        help="cada cuántos pasos medir la pérdida de validación (por defecto: 100; también al final)")
    salida.add_argument("--eval-lotes", type=_entero(1), default=20, metavar="N",
                        help="cuántos lotes de validación usar en cada evaluación (por defecto: 20)")
    salida.add_argument("--guardar-cada", type=_entero(1), default=500, metavar="PASOS",
                        help="cada cuántos pasos guardar un punto de control (por defecto: 500; también al final)")
    salida.add_argument("--conservar", type=_entero(1), default=3, metavar="N",
                        help="cuántos puntos de control recientes conservar, además del mejor (por defecto: 3)")
    salida.add_argument("--reanudar", action="store_true",
                        help="sigue desde el último punto de control de --salida, con los mismos argumentos")
    salida.add_argument("--sin-barra", action="store_true",
                        help="sin barra de progreso (solo las líneas de cada evaluación)")
    salida.add_argument("-h", "--help", action="help", help="muestra esta ayuda y termina")
    return p


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Lee los argumentos (`sys.argv` si `argv` es None) y comprueba los que dependen unos de otros.

    Un error termina el programa con el código 2 y un mensaje en español, antes de cargar nada.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.lr_min is None:
        args.lr_min = args.lr_max / 10
    if args.lr_min > args.lr_max:
        parser.error(f"--lr-min ({args.lr_min:g}) no puede ser mayor que --lr-max ({args.lr_max:g})")
    if args.epocas is None and args.pasos is None:
        args.epocas = 1
    if args.precision != "auto" and not args.rapido:
        parser.error(f"--precision {args.precision} solo vale con --rapido (GPTModelFast); GPTModel calcula en fp32")
    try:
        args.config = model_config_for(args.modelo, args.contexto)
    except ValueError as exc:
        parser.error(f"--modelo {args.modelo}: {exc}")
    if args.cache is None:
        args.cache = args.salida / "tokens"
    return args


def model_config_for(modelo: str, contexto: int | None) -> dict:
    """La configuración de `--modelo` (un tamaño con nombre o un JSON) con la longitud de contexto de `--contexto`."""
    if modelo in MODEL_SIZES:
        cfg = dict(MODEL_SIZES[modelo], context_length=contexto or DEFAULT_CONTEXT)
    else:
        ruta = Path(modelo)
        if ruta.suffix.lower() != ".json" or not ruta.is_file():
            raise ValueError(
                f"no es un tamaño conocido ({', '.join(MODEL_SIZES)}) ni un archivo JSON que exista"
            )
        try:
            cfg = json.loads(ruta.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ValueError(f"{ruta} no es un JSON válido ({exc})") from None
        if not isinstance(cfg, dict):
            raise ValueError(f"{ruta} debe contener un objeto JSON como GPT_CONFIG_124M, no {type(cfg).__name__}")
        if contexto is not None:
            cfg["context_length"] = contexto
    try:
        check_config(cfg)
    except (TypeError, ValueError) as exc:
        raise ValueError(str(exc).rstrip(".")) from None
    if cfg["emb_dim"] % cfg["n_heads"]:
        raise ValueError(f"emb_dim={cfg['emb_dim']} tiene que ser divisible entre n_heads={cfg['n_heads']}")
    if cfg["vocab_size"] != 50257:
        raise ValueError(
            f"vocab_size={cfg['vocab_size']}, pero el tokenizador del curso (el de GPT-2) tiene 50257 tokens"
        )
    return cfg
