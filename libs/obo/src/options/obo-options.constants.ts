/** Internal token of the resolved options; every provider injects this, never the raw options. */
export const RESOLVED_OBO_OPTIONS = Symbol('OBO_RESOLVED_OPTIONS');
