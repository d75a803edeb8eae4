/** Injection token of the resolved `OboWebAppModule` options. Internal. */
export const RESOLVED_WEB_APP_OPTIONS = Symbol('OBO_RESOLVED_WEB_APP_OPTIONS');
