//! [`YesApiError`]: a failed YesApi call, as a PhalApi-table `ret` code and message. Core
//! errors map through the shared table in `common::envelope`; outcomes the seed reports inside
//! `data` (`err_code` 1 and 2) are rendered by `response` and never become errors.

use sixin_core::Error;

use crate::common::envelope::Failure;

/// A YesApi error response on its way to the envelope (`{"ret":4xx,"data":{},"msg":…}`).
#[derive(Debug)]
pub(crate) struct YesApiError(pub Failure);

impl From<Error> for YesApiError {
    fn from(e: Error) -> Self {
        YesApiError(Failure::from(e))
    }
}

impl From<Failure> for YesApiError {
    fn from(f: Failure) -> Self {
        YesApiError(f)
    }
}
