"""`SpanishArgumentParser`: el `argparse.ArgumentParser` de los programas del curso, con «uso:» y sus errores en español.

Lo usan `python -m seccion05.trainGPT` (seccion05/trainGPTArgs.py) y `python -m sitio.construir`. La ayuda de cada
opción la escribe cada programa en español; aquí solo se traducen los mensajes que genera argparse (argumentos que
faltan, que no existen, sin valor...) y la palabra «usage». El error sale por la salida de errores con el código 2,
como en argparse.

Para qué no es: no comprueba valores (eso son los `type=` de cada programa y `checkArgs.py`) y no importa PyTorch,
para que el sitio web se construya sin él.
"""

from __future__ import annotations

import argparse
import re
import sys

# Los mensajes de argparse que pueden salir, traducidos (los de las opciones ya son de cada programa)
TRADUCCIONES = [
    (r"the following arguments are required: (.*)", r"faltan estos argumentos: \1"),
    (r"unrecognized arguments: (.*)", r"no conozco estos argumentos: \1 (mira la lista con --help)"),
    (r"argument (\S+): not allowed with argument (\S+)", r"\1 y \2 no pueden ir juntos: elige uno"),
    (r"argument (\S+): expected one argument", r"\1 necesita un valor"),
    (r"argument (\S+): invalid choice: (.*) \(choose from (.*)\)", r"\1 no admite \2; elige entre \3"),
    (r"argument (\S+): ignored explicit argument (.*)", r"\1 no lleva valor y has escrito \2"),
    (r"argument (\S+): (.*)", r"\1 \2"),
]


class SpanishArgumentParser(argparse.ArgumentParser):
    """ArgumentParser con «uso:», el título «opciones» y los errores de argparse en español."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._optionals.title = "opciones"  # argparse lo escribe en inglés

    def error(self, message):
        for patron, traduccion in TRADUCCIONES:
            if re.fullmatch(patron, message):
                message = re.sub(patron, traduccion, message)
                break
        self.print_usage(sys.stderr)
        self.exit(2, f"error: {message}.\n")

    def format_usage(self):
        return super().format_usage().replace("usage: ", "uso: ", 1)

    def format_help(self):
        return super().format_help().replace("usage: ", "uso: ", 1)
