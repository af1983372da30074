#!/usr/bin/env python3
"""Regenerate the oracle files in this directory.

Each <name>.tsv holds lines "A<TAB>OP<TAB>B" where OP (<, =, >) is the answer of
the ecosystem's reference implementation, run on this machine:

  deb.tsv     dpkg --compare-versions            (Debian dpkg 1.21/1.22)
  rpm.tsv     rpm 4.18 Lua rpm.ver() comparison  (apt-get install rpm)
  semver.tsv  node-semver 7 semver.compare()     (npm install semver@7)
  pep440.tsv  pypa packaging Version             (apt-get install python3-packaging)
  gem.tsv     Ruby Gem::Version#<=>              (apt-get install ruby)
  maven.tsv   Maven 3.8.7 ComparableVersion      (maven-artifact-3.x.jar)

Version pairs come from the real corpora in ../real (neighbours in lexical
order and random pairs) and from generated near-miss versions. The seed is
fixed, so a rerun on the same tool versions gives the same files.

Run:  /usr/bin/python3 generate.py /path/to/node_modules [deb rpm semver pep440 gem maven]
"""
import os
import random
import re
import subprocess
import sys
import tempfile

R = random.Random(20261123)
HERE = os.path.dirname(os.path.abspath(__file__))
REAL = os.path.join(HERE, "..", "real")


def real(name):
    with open(os.path.join(REAL, name)) as f:
        return [l for l in f.read().split("\n") if l]


def neighbour_chain(vs, runs, run_len):
    """Short runs of lexically adjacent versions: near-equal pairs."""
    s = sorted(set(vs))
    out = []
    for _ in range(runs):
        i = R.randrange(0, max(1, len(s) - run_len))
        out.append(s[i:i + run_len])
    return out


def random_chain(vs, n):
    return [R.sample(vs, min(n, len(vs)))]


def mutated_chains(gen, mutate, n, k=4):
    chains = []
    for _ in range(n):
        base = gen()
        c = [base]
        for _ in range(k):
            c.append(mutate(R.choice(c)))
        R.shuffle(c)
        chains.append(c)
    return chains


def pairs(chains):
    out = []
    for c in chains:
        for a, b in zip(c, c[1:]):
            out.append((a, b))
    return out


def sym(n):
    return "<" if n < 0 else (">" if n > 0 else "=")


def write(name, rows):
    seen = set()
    with open(os.path.join(HERE, name), "w") as f:
        for a, op, b in rows:
            if (a, b) in seen:
                continue
            seen.add((a, b))
            f.write(f"{a}\t{op}\t{b}\n")
    print(name, len(seen))


def num():
    return str(R.choice([0, 1, 2, 3, 9, 10, 11, 12, 99, 100, 20180224]))


# ---------------------------------------------------------------- deb
def deb_gen():
    up = ".".join(num() for _ in range(R.randint(1, 3)))
    if R.random() < 0.4:
        up += R.choice(["~rc1", "~beta", "+dfsg", "+git20210101", "a", "b", "~", "+really1.0", ".dfsg"])
    v = up
    if R.random() < 0.8:
        v += "-" + R.choice(["1", "2", "0ubuntu1", "1ubuntu0.20.04.1", "9+deb12u3", "9+deb12u14", "1~bpo11+1", "1build1", "1+b1"])
    if R.random() < 0.2:
        v = R.choice(["1:", "2:", "0:"]) + v
    return v


def deb_mut(v):
    ops = [
        lambda s: s + "~",
        lambda s: s + "+",
        lambda s: s + "a",
        lambda s: s + ".0",
        lambda s: s.replace("1", "01", 1),
        lambda s: re.sub(r"\d+$", lambda m: str(int(m.group()) + 1), s),
        lambda s: s.replace("~", "~~", 1) if "~" in s else s + "~~",
        lambda s: "1:" + s if ":" not in s else s,
        lambda s: s.replace("-", "~1-", 1) if "-" in s else s + "~1",
    ]
    return R.choice(ops)(v)


def deb():
    chains = neighbour_chain(real("deb.txt"), 80, 10) + random_chain(real("deb.txt"), 300)
    chains += mutated_chains(deb_gen, deb_mut, 150)
    rows = []
    for a, b in pairs(chains):
        res = None
        for op, s in (("lt", "<"), ("eq", "="), ("gt", ">")):
            p = subprocess.run(["dpkg", "--compare-versions", a, op, b], capture_output=True)
            if p.stderr:
                break  # dpkg warns about bad syntax: not an oracle case
            if p.returncode == 0:
                res = s
                break
        if res:
            rows.append((a, res, b))
    write("deb.tsv", rows)


# ---------------------------------------------------------------- rpm
def rpm_gen():
    v = ".".join(num() for _ in range(R.randint(1, 3)))
    if R.random() < 0.3:
        v += R.choice(["~rc1", "~beta2", "^git1", "^20210101git", "a", "b", "~", "^", "git"])
    rel = R.choice(["1", "28.el9_0", "60.el9_2.7", "6.1.el9.alma", "5.el9_5.alma.1", "9.20180224.el8",
                    "9.20180224.el8_8.1", "225.el8", "225.el8_8.6", "1.module_el8.10.0+4162+0aac7c4c"])
    v += "-" + rel
    if R.random() < 0.2:
        v = R.choice(["1:", "2:", "0:"]) + v
    return v


def rpm_mut(v):
    ops = [
        lambda s: s + "~",
        lambda s: s + "^",
        lambda s: s + "^1",
        lambda s: s + "a",
        lambda s: s + ".1",
        lambda s: s + "_1",
        lambda s: s.replace(".", "_", 1),
        lambda s: s.replace("1", "01", 1),
        lambda s: re.sub(r"\d+$", lambda m: str(int(m.group()) + 1), s),
        lambda s: s.replace("-", "~rc1-", 1),
        lambda s: s.replace("-", "^git1-", 1),
        lambda s: "1:" + s if ":" not in s else s,
    ]
    return R.choice(ops)(v)


def rpm():
    chains = neighbour_chain(real("rpm.txt"), 80, 10) + random_chain(real("rpm.txt"), 300)
    chains += mutated_chains(rpm_gen, rpm_mut, 150)
    ps = [(a, b) for a, b in pairs(chains) if ("-" in a) == ("-" in b)]
    with tempfile.NamedTemporaryFile("w", delete=False, suffix=".txt") as f:
        for a, b in ps:
            f.write(f"{a}\t{b}\n")
        inp = f.name
    lua = (
        "local f = io.open('%s') "
        "for line in f:lines() do "
        "  local a, b = line:match('^([^\\t]*)\\t(.*)$') "
        "  local ok, r = pcall(function() "
        "    local x, y = rpm.ver(a), rpm.ver(b) "
        "    if x < y then return '<' elseif x == y then return '=' else return '>' end end) "
        "  if ok then print(a .. '\\t' .. r .. '\\t' .. b .. '\\n') end "
        "end" % inp
    )
    out = subprocess.run(["rpm", "--eval", "%{lua:" + lua + "}"], capture_output=True, text=True, check=True).stdout
    os.unlink(inp)
    write("rpm.tsv", [tuple(l.split("\t")) for l in out.split("\n") if l])


# ---------------------------------------------------------------- semver
def semver_gen():
    v = ".".join(num() for _ in range(3))
    if R.random() < 0.6:
        ids = [R.choice(["alpha", "beta", "rc", "RC", "1", "2", "11", "x-y", "-1", "a1", "0"]) for _ in range(R.randint(1, 3))]
        v += "-" + ".".join(ids)
    if R.random() < 0.2:
        v += "+build." + num()
    return v


def semver_mut(v):
    ops = [
        lambda s: s + (".1" if "-" in s else "-1"),
        lambda s: s + (".alpha" if "-" in s else "-alpha"),
        lambda s: s.split("+")[0],
        lambda s: s + "+meta" if "+" not in s else s,
        lambda s: re.sub(r"\d+", lambda m: str(int(m.group()) + 1), s, count=1),
        lambda s: s.replace("beta", "Beta"),
    ]
    return R.choice(ops)(v)


def semver(node_modules):
    chains = mutated_chains(semver_gen, semver_mut, 200)
    chains.append(["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
                   "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "0.0.0", "4.17.15", "4.17.21", "1.2.6"])
    ps = pairs(chains)
    js = ("const s=require(%r);const ps=JSON.parse(require('fs').readFileSync(0,'utf8'));"
          "for(const [a,b] of ps){if(!s.valid(a)||!s.valid(b))continue;"
          "const r=s.compare(a,b);console.log(a+'\\t'+(r<0?'<':r>0?'>':'=')+'\\t'+b)}") % os.path.join(node_modules, "semver")
    import json
    out = subprocess.run(["node", "-e", js], input=json.dumps(ps), capture_output=True, text=True, check=True).stdout
    write("semver.tsv", [tuple(l.split("\t")) for l in out.split("\n") if l])


# ---------------------------------------------------------------- pep440
def pep_gen():
    v = ".".join(num() for _ in range(R.randint(1, 4)))
    if R.random() < 0.15:
        v = R.choice(["1!", "2!"]) + v
    if R.random() < 0.4:
        v += R.choice(["a", "b", "rc", "c", "alpha", "beta", "pre", "preview", ".a", "-rc", "_b"]) + R.choice(["", "0", "1", "2", "10"])
    if R.random() < 0.3:
        v += R.choice([".post", "-", ".rev", "r", "post"]) + R.choice(["1", "2", "0"])
    if R.random() < 0.3:
        v += R.choice([".dev", "dev", "-dev"]) + R.choice(["", "0", "1", "5"])
    if R.random() < 0.2:
        v += "+" + R.choice(["local", "ubuntu.1", "ubuntu-1", "abc.5", "5", "1.abc", "deadbeef"])
    return v


def pep_mut(v):
    ops = [
        lambda s: s + ".0" if not re.search(r"[a-z+]", s) else s,
        lambda s: s + ".dev0" if "dev" not in s and "+" not in s else s,
        lambda s: s + ".post1" if "post" not in s and "+" not in s and "dev" not in s else s,
        lambda s: s + "+x" if "+" not in s else s,
        lambda s: s.upper(),
        lambda s: re.sub(r"\d+$", lambda m: str(int(m.group()) + 1), s),
        lambda s: "v" + s if not s.startswith("v") else s,
    ]
    return R.choice(ops)(v)


def pep440():
    corpus = real("pypi.txt")
    chains = neighbour_chain(corpus, 80, 10) + random_chain(corpus, 300)
    chains += mutated_chains(pep_gen, pep_mut, 200)
    ps = pairs(chains)
    py = ("import sys,json\nfrom packaging.version import Version, InvalidVersion\n"
          "for a,b in json.load(sys.stdin):\n"
          "  try: x,y=Version(a),Version(b)\n"
          "  except InvalidVersion: continue\n"
          "  print(a+'\\t'+('<' if x<y else '>' if x>y else '=')+'\\t'+b)\n")
    import json
    out = subprocess.run(["/usr/bin/python3", "-c", py], input=json.dumps(ps), capture_output=True, text=True, check=True).stdout
    write("pep440.tsv", [tuple(l.split("\t")) for l in out.split("\n") if l])


# ---------------------------------------------------------------- gem
def gem_gen():
    v = ".".join(num() for _ in range(R.randint(1, 4)))
    if R.random() < 0.5:
        v += "." + R.choice(["a", "alpha", "b", "beta", "pre", "preview", "rc", "rc1", "beta2", "a10", "pre.1", "racecar"])
    if R.random() < 0.1:
        v += "-" + R.choice(["rc1", "1", "beta"])
    return v


def gem_mut(v):
    ops = [
        lambda s: s + ".0",
        lambda s: s + "1",
        lambda s: s + ".a",
        lambda s: s + "a",
        lambda s: s.replace("pre", "preview"),
        lambda s: s.replace("alpha", "a"),
        lambda s: re.sub(r"\d+$", lambda m: str(int(m.group()) + 1), s),
        lambda s: s.upper(),
    ]
    return R.choice(ops)(v)


def gem():
    chains = mutated_chains(gem_gen, gem_mut, 250)
    chains.append(["1.0.0.pre", "1.0.0.preview", "1.0.a10", "1.0.alpha", "1.0.0.a", "1.0.0", "7.0.0.rc1",
                   "7.0.0.beta1", "0.9.0.b", "0.9.0.beta"])
    ps = pairs(chains)
    rb = ("require 'json'\nJSON.parse(STDIN.read).each do |a,b|\n"
          "  next unless Gem::Version.correct?(a) && Gem::Version.correct?(b)\n"
          "  r = Gem::Version.new(a) <=> Gem::Version.new(b)\n"
          "  puts [a, r < 0 ? '<' : (r > 0 ? '>' : '='), b].join(\"\\t\")\nend\n")
    import json
    out = subprocess.run(["ruby", "-e", rb], input=json.dumps(ps), capture_output=True, text=True, check=True).stdout
    write("gem.tsv", [tuple(l.split("\t")) for l in out.split("\n") if l])


# ---------------------------------------------------------------- maven
def mvn_gen():
    v = ".".join(num() for _ in range(R.randint(1, 4)))
    if R.random() < 0.6:
        sep = R.choice(["-", ".", ""])
        q = R.choice(["alpha", "beta", "milestone", "rc", "cr", "SNAPSHOT", "ga", "final", "RELEASE", "sp", "foo",
                      "a1", "b2", "m3", "alpha-1", "beta9", "rc1", "Final", "GA", "jre", "android"])
        v += sep + q
    return v


def mvn_mut(v):
    ops = [
        lambda s: s + ".0",
        lambda s: s + "-0",
        lambda s: s + "-1",
        lambda s: s + ".1",
        lambda s: s + "-SNAPSHOT",
        lambda s: s + "-sp1",
        lambda s: s.upper(),
        lambda s: re.sub(r"\d+$", lambda m: str(int(m.group()) + 1), s),
        lambda s: s.replace("-", ".", 1),
    ]
    return R.choice(ops)(v)


def maven():
    chains = mutated_chains(mvn_gen, mvn_mut, 250)
    chains.append(["2.0-beta9", "2.0-rc1", "2.0", "2.14.1", "2.15.0", "2.16.0", "2.17.0", "2.17.1", "2.3.1",
                   "2.3.1.RELEASE", "2.12.2", "2.12.3", "2.12.4", "2.13.0", "2.4", "2.4.0"])
    jar = "/usr/share/maven/lib/maven-artifact-3.x.jar"
    flat = [v for c in chains for v in c]  # one JVM start; pairs are consecutive arguments
    out = subprocess.run(["java", "-cp", jar, "org.apache.maven.artifact.versioning.ComparableVersion"] + flat,
                         capture_output=True, text=True, check=True).stdout
    rows = []
    for l in out.split("\n"):
        m = re.match(r"^   (\S+) (<|==|>) (\S+)$", l)
        if m:
            rows.append((m.group(1), "=" if m.group(2) == "==" else m.group(2), m.group(3)))
    write("maven.tsv", rows)


if __name__ == "__main__":
    node_modules = sys.argv[1] if len(sys.argv) > 1 else "node_modules"
    only = set(sys.argv[2:])  # optional: names of the files to regenerate
    for name, f in (("deb", deb), ("rpm", rpm), ("semver", lambda: semver(node_modules)),
                    ("pep440", pep440), ("gem", gem), ("maven", maven)):
        if not only or name in only:
            f()
