# SPDX-License-Identifier: Apache-2.0
"""htpasswd entries for the registry's `auth: htpasswd`, which accepts bcrypt hashes only.

`openssl passwd` cannot make bcrypt and apache2-utils is not installed, so: the C library's
crypt(3) through Python's `crypt` module when it exists (libxcrypt does `$2b$`), else a small
bcrypt written here from the published algorithm (Provos and Mazieres, "A Future-Adaptable
Password Scheme", 1999). Blowfish's initial state is the fractional part of pi, which we
compute rather than paste as tables.

Cost 4 (the minimum) is deliberate: the registry hashes the password of every request it
authenticates, and a test registry must be fast, not brute-force resistant.
"""

import base64
import os
import warnings

COST = 4

_STD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_BCRYPT = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_TO_BCRYPT = str.maketrans(_STD, _BCRYPT)
_FROM_BCRYPT = str.maketrans(_BCRYPT, _STD)


def _b64(data):
    return base64.b64encode(data).decode().rstrip("=").translate(_TO_BCRYPT)


def _unb64(text):
    std = text.translate(_FROM_BCRYPT)
    return base64.b64decode(std + "=" * (-len(std) % 4))


_pi_words = None


def _pi_fraction_words(count):
    """The first `count` 32-bit words of the hexadecimal fraction of pi (Machin's formula in
    fixed point, 64 guard bits)."""
    bits = 32 * count + 64
    one = 1 << bits

    def arctan_inv(x):
        total = term = one // x
        x2 = x * x
        n = 1
        sign = -1
        while term:
            term //= x2
            total += sign * (term // (2 * n + 1))
            sign = -sign
            n += 1
        return total

    pi = 16 * arctan_inv(5) - 4 * arctan_inv(239)
    frac = (pi - 3 * one) >> 64
    return [(frac >> (32 * (count - 1 - i))) & 0xFFFFFFFF for i in range(count)]


class _Blowfish:
    def __init__(self):
        global _pi_words
        if _pi_words is None:
            _pi_words = _pi_fraction_words(18 + 4 * 256)
        self.p = _pi_words[:18]
        self.s = [_pi_words[18 + 256 * i:18 + 256 * (i + 1)] for i in range(4)]

    def encrypt(self, left, right):
        p = self.p
        s0, s1, s2, s3 = self.s
        for i in range(16):
            left ^= p[i]
            right ^= ((((s0[left >> 24] + s1[(left >> 16) & 0xFF]) & 0xFFFFFFFF)
                       ^ s2[(left >> 8) & 0xFF]) + s3[left & 0xFF]) & 0xFFFFFFFF
            left, right = right, left
        left, right = right, left
        right ^= p[16]
        left ^= p[17]
        return left, right

    @staticmethod
    def _words(data):
        """Endless big-endian 32-bit words taken cyclically from data."""
        i = 0
        n = len(data)
        while True:
            w = 0
            for _ in range(4):
                w = (w << 8) | data[i]
                i = (i + 1) % n
            yield w

    def expand(self, key, salt):
        keyw = self._words(key)
        self.p = [x ^ next(keyw) for x in self.p]
        saltw = self._words(salt) if salt else None
        left = right = 0

        def fill(table):
            nonlocal left, right
            for i in range(0, len(table), 2):
                if saltw:
                    left ^= next(saltw)
                    right ^= next(saltw)
                left, right = self.encrypt(left, right)
                table[i] = left
                table[i + 1] = right

        fill(self.p)
        for box in self.s:
            fill(box)


def bcrypt_pure(password, salt, cost=COST):
    """bcrypt `$2b$` hash of password (str) with a 16-byte salt."""
    key = (password.encode() + b"\x00")[:72]
    bf = _Blowfish()
    bf.expand(key, salt)
    for _ in range(1 << cost):
        bf.expand(key, None)
        bf.expand(salt, None)
    magic = b"OrpheanBeholderScryDoubt"
    ctext = [int.from_bytes(magic[i:i + 4], "big") for i in range(0, 24, 4)]
    for _ in range(64):
        for j in range(0, 6, 2):
            ctext[j], ctext[j + 1] = bf.encrypt(ctext[j], ctext[j + 1])
    raw = b"".join(w.to_bytes(4, "big") for w in ctext)[:23]
    return f"$2b${cost:02d}${_b64(salt)[:22]}{_b64(raw)}"


def bcrypt_libc(password, salt, cost=COST):
    """The same through crypt(3); None when the crypt module or bcrypt support is missing."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import crypt
    except ImportError:
        return None
    setting = f"$2b${cost:02d}${_b64(salt)[:22]}"
    out = crypt.crypt(password, setting)
    return out if out and out.startswith(setting) else None


def bcrypt_hash(password, salt=None, cost=COST):
    salt = salt if salt is not None else os.urandom(16)
    return bcrypt_libc(password, salt, cost) or bcrypt_pure(password, salt, cost)


def salt_of(hashed):
    """The 16 salt bytes of a `$2?$NN$...` hash (for cross-checking implementations)."""
    return _unb64(hashed[7:29])[:16]


def htpasswd_line(user, password):
    if ":" in user:
        raise ValueError(f"user name '{user}' must not contain ':'")
    return f"{user}:{bcrypt_hash(password)}\n"


def write_htpasswd(path, users):
    """Write an htpasswd file for {user: password}."""
    with open(path, "w") as f:
        for user, password in users.items():
            f.write(htpasswd_line(user, password))
    os.chmod(path, 0o600)
