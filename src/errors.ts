// Named errors with stable codes, in one place (bolt-js src/errors.ts habit).
export const ErrorCode = {
  Config: 'houqin_config_error',
  BadSignature: 'houqin_bad_signature',
  BadRequest: 'houqin_bad_request',
  Stale: 'houqin_stale_request',
  Platform: 'houqin_platform_error',
  Transition: 'houqin_illegal_transition',
  Forbidden: 'houqin_forbidden',
  NotFound: 'houqin_not_found',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class HouqinError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ConfigError extends HouqinError {
  constructor(message: string) {
    super(ErrorCode.Config, message);
  }
}

/** A callback that fails verification: bad/missing signature, wrong receive id, undecryptable. → 401/400. */
export class VerificationError extends HouqinError {
  constructor(
    message: string,
    readonly status = 401,
  ) {
    super(ErrorCode.BadSignature, message);
  }
}

export class StaleRequestError extends HouqinError {
  constructor(message: string) {
    super(ErrorCode.Stale, message);
  }
}

/** A platform API answered with an error. `retryable` steers the outbox (BullMQ UnrecoverableError otherwise). */
export class PlatformError extends HouqinError {
  constructor(
    message: string,
    readonly errcode: number,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(ErrorCode.Platform, message);
  }
}
