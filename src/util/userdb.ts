// This machine's users and groups, names ↔ ids, as getpwnam/getpwuid/getgrnam/getgrgid answer (Node has
// none of them): /etc/passwd and /etc/group first, then `getent` for what they do not hold (NSS sources
// such as LDAP). Read once, on first use; only options that name users or groups ask.

import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

/** One database: `passwd` (users) or `group`. */
export class NameDb {
  private byName: Map<string, { id: number; gid: number }> | undefined;
  private byId: Map<number, string> | undefined;

  constructor(private readonly db: 'passwd' | 'group') {}

  /** The id of a name (getpwnam/getgrnam), or undefined. */
  idOf(name: string): number | undefined {
    return this.entry(name)?.id;
  }

  /** A user's primary group (getpwnam's pw_gid); passwd only. */
  primaryGid(name: string): number | undefined {
    return this.entry(name)?.gid;
  }

  /** The name of an id (getpwuid/getgrgid), or undefined. */
  nameOf(id: number): string | undefined {
    this.load();
    if (this.byId!.has(id)) return this.byId!.get(id);
    const found = this.getent(String(id));
    this.byId!.set(id, found?.name as string);
    return found?.name;
  }

  /** The names /etc/passwd or /etc/group holds (an NSS source's others are found only by lookups). */
  names(): string[] {
    this.load();
    return [...this.byName!.keys()].filter((n) => this.byName!.get(n) !== undefined);
  }

  private entry(name: string): { id: number; gid: number } | undefined {
    this.load();
    if (this.byName!.has(name)) return this.byName!.get(name);
    const found = name === '' ? undefined : this.getent(name);
    const e = found ? { id: found.id, gid: found.gid } : undefined;
    this.byName!.set(name, e!);
    return e;
  }

  private load(): void {
    if (this.byName) return;
    this.byName = new Map();
    this.byId = new Map();
    let text = '';
    try {
      text = readFileSync(`/etc/${this.db}`, 'latin1');
    } catch {
      // no file: getent answers each lookup
    }
    for (const line of text.split('\n')) {
      const e = this.parse(line);
      if (!e) continue;
      // The first line of a name or id wins, as the C library's file lookups answer.
      if (!this.byName.has(e.name)) this.byName.set(e.name, { id: e.id, gid: e.gid });
      if (!this.byId.has(e.id)) this.byId.set(e.id, e.name);
    }
  }

  /** One line of passwd (name:pw:uid:gid:...) or group (name:pw:gid:members). */
  private parse(line: string): { name: string; id: number; gid: number } | undefined {
    const f = line.split(':');
    if (f.length < 3 || f[0] === '' || !/^\d+$/.test(f[2] ?? '')) return undefined;
    const id = Number(f[2]);
    return { name: f[0]!, id, gid: this.db === 'passwd' && /^\d+$/.test(f[3] ?? '') ? Number(f[3]) : id };
  }

  private getent(key: string): { name: string; id: number; gid: number } | undefined {
    try {
      const r = spawnSync('getent', [this.db, key], { encoding: 'latin1', timeout: 10_000 });
      return r.status === 0 ? this.parse(r.stdout.split('\n')[0] ?? '') : undefined;
    } catch {
      return undefined;
    }
  }
}

/** The machine's users and groups, read on first use. */
export const users = new NameDb('passwd');
export const groups = new NameDb('group');
