/** The Principal's JSON form, as the test API's routes (/delegated, /app, ...) return it. */
export interface PrincipalJson {
  objectId: string;
  tenantId: string;
  subject: string;
  clientAppId?: string;
  scopes: string[];
  roles: string[];
  isAppOnly: boolean;
}
