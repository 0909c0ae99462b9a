#!/usr/bin/env python3
"""Writes the lab's demo inputs: four synthetic network traces and one video's chunk sizes.

They are the project's own (no third-party measurements), so `make demo` works on a fresh
clone without ../shared. Deterministic: run it again and the files come out identical.

Traces use the two-column Pensieve format (`time_s throughput_Mbps`, one sample a second).
The video is a 5-rung ladder (300, 700, 1200, 2500, 4500 kbit/s) of 48 four-second chunks
whose sizes vary with scene complexity the way a capped-VBR encode does.
"""
import math
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))


def write_trace(name, samples):
    with open(os.path.join(HERE, "demo-traces", name), "w") as out:
        for second, mbps in enumerate(samples):
            out.write(f"{second}\t{max(mbps, 0.0):.4f}\n")


def lte_commute(rng):
    # A random walk between 1 and 9 Mbit/s with a 12 s tunnel at 150 s.
    rate, samples = 5.0, []
    for second in range(320):
        rate = min(9.0, max(1.0, rate + rng.gauss(0, 0.6)))
        samples.append(0.0 if 150 <= second < 162 else rate)
    return samples


def busy_wifi(rng):
    # Fast but shared: every ~40 s a neighbour's download halves what is left.
    samples = []
    for second in range(320):
        contention = 0.45 if (second // 20) % 2 == 1 else 1.0
        samples.append(7.5 * contention * (0.85 + 0.3 * rng.random()))
    return samples


def weak_3g(rng):
    # Slow and jittery, around 1 Mbit/s.
    return [0.5 + 0.9 * rng.random() + 0.3 * math.sin(second / 9) for second in range(320)]


def steps():
    # Deterministic steps: 5, then 1, then 3 Mbit/s.
    return [5.0] * 100 + [1.0] * 100 + [3.0] * 120


def write_video(rng):
    ladder = [300, 700, 1200, 2500, 4500]
    complexity = [0.8 + 0.4 * (0.5 + 0.5 * math.sin(chunk / 5)) + 0.1 * rng.random() for chunk in range(49)]
    for level, kbps in enumerate(ladder):
        with open(os.path.join(HERE, "demo-video", f"video_size_{level}"), "w") as out:
            for factor in complexity:
                out.write(f"{int(kbps * 1000 / 8 * 4 * factor)}\n")


def main():
    rng = random.Random(20261125)
    write_trace("lte-commute.txt", lte_commute(rng))
    write_trace("busy-wifi.txt", busy_wifi(rng))
    write_trace("weak-3g.txt", weak_3g(rng))
    write_trace("steps.txt", steps())
    write_video(rng)


if __name__ == "__main__":
    main()
