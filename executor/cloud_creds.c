/* SPDX-License-Identifier: Apache-2.0 */
/* The cloud registries' built-in credentials, in one provider (see cloud_creds.h). */
#include "executor/cloud_creds.h"

#include "executor/acr_creds.h"
#include "executor/ecr_creds.h"
#include "executor/gcr_creds.h"
#include "registry/creds.h"

int cloud_creds_provider(const char *domain, struct creds **ret, struct lerr **err)
{
        int r = ecr_creds_provider(domain, ret, err);
        if (r != 0)
                return r;
        r = gcr_creds_provider(domain, ret, err);
        if (r != 0)
                return r;
        return acr_creds_provider(domain, ret, err);
}

void cloud_creds_register(void)
{
        creds_set_provider(cloud_creds_provider);
}
