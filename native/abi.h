/* The version of the contract between the addon and src/engine/native.ts. */
#ifndef ARSYNC_ABI_H
#define ARSYNC_ABI_H

/* Bump when an export, argument, return shape or the batch layout changes: the loader refuses an addon
 * (a stale prebuilt or an old from-source build) whose number differs from what the JavaScript expects,
 * instead of letting it misread batches. */
#define ARSYNC_ADDON_ABI 7

#endif
