// What the figures were measured on: they mean little without it.
import { cpus, totalmem } from 'node:os';

export function machine() {
  const list = cpus();
  return {
    cores: list.length,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    cpuModel: list[0]?.model.trim() ?? 'unknown',
  };
}
