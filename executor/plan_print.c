/* SPDX-License-Identifier: Apache-2.0 */
/* TEMPORARY stand-in for --print-plan until the Dockerfile frontend branch is merged; that
 * branch replaces this file. */
#include "executor/plan_print.h"

#include <errno.h>

#include "common/err.h"

int plan_print(const struct options *o, FILE *out, struct lerr **err)
{
        (void) o;
        (void) out;
        return lerr_set(err, ENOSYS, "--print-plan: the Dockerfile frontend is not merged yet");
}
