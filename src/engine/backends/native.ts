/**
 * Loader for the native N-API backend (placeholder until the addon lands: always reports "not built").
 */
import type { Backend } from '../backend.js';

/** Loads the compiled addon as a Backend, or explains why it could not. */
export function tryLoadNative(): { backend: Backend } | { error: string } {
  return { error: 'native addon not built yet' };
}
