//! [`PhalApiError`]: a failed PhalApi call, as a `ret` code of the PhalApi table (400, 404, 406,
//! 407, 408, 500) and a message. Core errors map through the shared table in
//! `common::envelope`.

use sixin_core::Error;

use crate::common::envelope::Failure;

/// A PhalApi error response on its way to `{"ret":4xx,"data":{},"msg":…}`.
#[derive(Debug)]
pub(crate) struct PhalApiError(pub Failure);

impl From<Error> for PhalApiError {
    fn from(e: Error) -> Self {
        PhalApiError(Failure::from(e))
    }
}

impl From<Failure> for PhalApiError {
    fn from(f: Failure) -> Self {
        PhalApiError(f)
    }
}
