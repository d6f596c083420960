// rsync's --copy-devices (a char or block device is sent as a regular file holding its contents) and
// --write-devices/--no-write-devices (a file's data goes into an existing device on the destination;
// it implies --inplace whatever else the line says, as rsync's options.c sets inplace last), declared
// on the parser and mapped into the Config.

import type { Command } from 'commander';
import type { Config } from '../model/config.js';

/** What these options leave in the Config (after cli/write-options.ts: --write-devices forces --inplace). */
export type DeviceOptions = Pick<Config, 'copyDevices' | 'writeDevices' | 'inplace' | 'partial'>;

export function addDeviceOptions(p: Command): () => Partial<DeviceOptions> {
  let write = false;
  p.option('--copy-devices', 'copy device contents as a regular file')
    .option('--write-devices', 'write to devices as files (implies --inplace)')
    .option('--no-write-devices', 'turn off --write-devices');
  p.on('option:write-devices', () => (write = true));
  p.on('option:no-write-devices', () => (write = false));
  return () => {
    const out: Partial<DeviceOptions> = {};
    if (p.getOptionValue('copyDevices') === true) out.copyDevices = true;
    // rsync: inplace = 1, which also keeps no partial file (the target itself holds the data).
    if (write) Object.assign(out, { writeDevices: true, inplace: true, partial: false });
    return out;
  };
}
