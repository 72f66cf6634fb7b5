"""--key=value overrides of a training script's module-level defaults (nanoGPT's configurator idea,
without exec): every int/float/str/bool global not starting with "_" is a key; values are parsed
to the default's type; a bool may also be given bare (--resume). Bad input exits with a message
that lists the keys."""


def config_keys(g):
    return [k for k, v in list(g.items()) if not k.startswith("_") and isinstance(v, (int, float, str, bool))]


def apply_overrides(g, keys, argv):
    for arg in argv:
        if not arg.startswith("--"):
            raise SystemExit(f"bad argument {arg!r}: use --key=value; keys: {', '.join(keys)}")
        key, eq, val = arg[2:].partition("=")
        key = key.replace("-", "_")
        if key not in keys:
            raise SystemExit(f"unknown option --{key}; keys: {', '.join(keys)}")
        old = g[key]
        if not eq:
            if not isinstance(old, bool):
                raise SystemExit(f"bad argument {arg!r}: use --{key}=value")
            g[key] = True
            continue
        try:
            if isinstance(old, bool):
                if val.lower() not in ("true", "false", "1", "0"):
                    raise ValueError
                g[key] = val.lower() in ("true", "1")
            else:
                g[key] = type(old)(val)
        except ValueError:
            raise SystemExit(f"--{key}={val!r}: expected a {type(old).__name__}")
