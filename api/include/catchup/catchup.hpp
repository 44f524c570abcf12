// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// Everything of the engine facade in one include: the engine, the
/// operator tasks around it (admin.hpp) and the node runner (server.hpp).
/// The actor-level integration (catchup/node.hpp) is separate: it needs
/// CAF.

#include "catchup/admin.hpp"
#include "catchup/engine.hpp"
#include "catchup/error.hpp"
#include "catchup/server.hpp"
#include "catchup/types.hpp"
#include "catchup/version.hpp"
