import { describe, expect, it } from 'vitest';
import { DeleteGate } from '../../../src/plan/delete-gate.js';

describe('DeleteGate', () => {
  const gate = (ignore: boolean, prior = 0): { g: DeleteGate; said: string[] } => {
    const said: string[] = [];
    return { g: new DeleteGate(ignore, (l) => said.push(l), prior), said };
  };

  it('allows deletion while no error happened', () => {
    const { g, said } = gate(false);
    expect(g.allows(0)).toBe(true);
    expect(said).toEqual([]);
  });

  it('any error (reported, prior, or noted) blocks it, and says so once', () => {
    for (const [prior, io, note] of [[1, 0, false], [0, 2, false], [0, 0, true]] as const) {
      const { g, said } = gate(false, prior);
      if (note) g.noteError();
      expect(g.allows(io)).toBe(false);
      expect(g.allows(io)).toBe(false);
      expect(said).toEqual(['IO error encountered -- skipping file deletion']);
    }
  });

  it('--ignore-errors lets it go ahead silently', () => {
    const { g, said } = gate(true, 3);
    expect(g.allows(5)).toBe(true);
    expect(said).toEqual([]);
  });

  it('--delete-delay: a directory visited before the first error keeps its deletions; one after gets none', () => {
    const { g, said } = gate(false);
    g.visitDelayed(Buffer.from('a'), 0);
    g.visitDelayed(Buffer.from('z'), 1);
    expect(said).toEqual(['IO error encountered -- skipping file deletion']);
    expect(g.allowsDelayed(Buffer.from('a'), 1)).toBe(true);
    expect(g.allowsDelayed(Buffer.from('z'), 1)).toBe(false);
    expect(g.allowsDelayed(Buffer.from('never-visited'), 1)).toBe(false);
    expect(said).toHaveLength(1);
  });
});

