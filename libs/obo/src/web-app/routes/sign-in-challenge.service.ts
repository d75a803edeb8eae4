import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { OboError } from '../../errors/obo.error.js';
import { WebAppRedirect } from '../authorize-for-scopes/web-app-redirect.js';
import { WebAppContext } from '../context/web-app-context.service.js';
import type { InteractionReason, StepUpRequest } from '../errors/interaction-required.error.js';
import { RESOLVED_WEB_APP_OPTIONS } from '../options/web-app-options.constants.js';
import type { ResolvedWebAppOptions } from '../options/resolve-web-app-options.js';
import { isLocalReturnUrl } from '../session/return-url.js';
import { SessionService } from '../session/session.service.js';
import { SignInClient, type PendingAuthorization } from '../sign-in/sign-in-client.js';

/** What to ask the authority for. */
export interface ChallengeRequest {
  readonly scopes: readonly string[];
  /** Claims request (JSON text) from a challenge. */
  readonly claims?: string;
  /** `acr_values` / `max_age` from an RFC 9470 step-up challenge. */
  readonly stepUp?: StepUpRequest;
  /** Where to come back to; anything but a local path becomes `/`. */
  readonly returnUrl: string;
  readonly reason?: InteractionReason;
}

const random = () => randomBytes(32).toString('base64url');

/**
 * Starts an authorization request: a session for it if the browser has none, fresh `state`, `nonce`
 * and PKCE verifier kept server-side in that session, and the authority URL to send the browser to.
 * The sign-in route and `@AuthorizeForScopes()` both use it. Internal.
 */
@Injectable()
export class SignInChallenge {
  constructor(
    @Inject(RESOLVED_WEB_APP_OPTIONS) private readonly options: ResolvedWebAppOptions,
    private readonly sessions: SessionService,
    @Inject(SignInClient) private readonly client: SignInClient,
    private readonly context: WebAppContext,
  ) {}

  /** @throws {OboError} `ERR_OBO_INTERNAL` outside a web-app request */
  async redirectToAuthority(request: ChallengeRequest): Promise<WebAppRedirect> {
    const current = this.context.current;
    if (!current) throw new OboError('ERR_OBO_INTERNAL', 'A sign-in challenge can only be started while serving a web-app request.');
    const session = current.session ?? (current.session = await this.sessions.start(current.response));
    const pending: PendingAuthorization = {
      state: random(),
      nonce: random(),
      codeVerifier: random(),
      scopes: Object.freeze([...new Set(request.scopes.length > 0 ? request.scopes : this.options.scopes)]),
      ...(request.claims === undefined ? {} : { claims: request.claims }),
      ...(request.stepUp?.acrValues === undefined ? {} : { acrValues: request.stepUp.acrValues }),
      ...(request.stepUp?.maxAge === undefined ? {} : { maxAge: request.stepUp.maxAge }),
      returnUrl: isLocalReturnUrl(request.returnUrl) ?? '/',
      createdAt: Date.now(),
    };
    this.sessions.addPending(session, pending);
    await this.sessions.save(session);
    const loginHint = session.account?.username;
    return new WebAppRedirect(await this.client.authorizationUrl({ pending, ...(loginHint === undefined ? {} : { loginHint }) }));
  }
}
