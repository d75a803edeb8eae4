/**
 * Sends the browser elsewhere (302): to the authority for a sign-in or challenge, or to the sign-in
 * route. Thrown by guards and interceptors, answered by the web app's exception filter. Internal.
 */
export class WebAppRedirect extends Error {
  constructor(readonly location: string) {
    super('redirect');
    this.name = 'WebAppRedirect';
  }
}
