/** Internal token of the resolved options; every provider injects this, never the raw options. */
export const RESOLVED_OBO_OPTIONS = Symbol('OBO_RESOLVED_OPTIONS');
/** Whether the module registered its guards globally (the `globalGuard` extra): a boolean. Internal. */
export const OBO_GLOBAL_GUARD = Symbol('OBO_GLOBAL_GUARD');
