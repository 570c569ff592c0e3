# Install staticnet to a scratch prefix, then configure, build and run the
# consumer project against it with find_package(staticnet CONFIG REQUIRED):
# one program with the compiled kernels (staticnet::staticnet), built without
# any -march flag, and the same program header-only (staticnet::header_only);
# with CUDA=ON (the build found CUDA), the package has the GPU engine and a
# program using cuda::Model builds against it and runs. A program using
# sn::Predictor and examples/classify (from its source) build and run too.
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
macro(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed: ${ARGN}\n${out}\n${err}")
  endif()
endmacro()
run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/lib -G "${GENERATOR}" -DCMAKE_CXX_COMPILER=${CXX}
    -DSTATICNET_BUILD_TESTS=OFF -DSTATICNET_BUILD_EXAMPLES=OFF -DSTATICNET_CUDA=${CUDA}
    -DCMAKE_INSTALL_PREFIX=${prefix})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/lib)
run(${CMAKE_COMMAND} --install ${WORK_DIR}/lib)
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer -B ${WORK_DIR}/app -G "${GENERATOR}"
    -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_PREFIX_PATH=${prefix} -DSTATICNET_SOURCE_DIR=${SOURCE_DIR})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/app)
run(${WORK_DIR}/app/consumer)
run(${WORK_DIR}/app/consumer_header_only)
run(${WORK_DIR}/app/consumer_predictor)
run(${WORK_DIR}/app/classify --help)
if(CUDA)
  if(NOT EXISTS ${WORK_DIR}/app/consumer_cuda)
    message(FATAL_ERROR "the package was built with the GPU engine but staticnet::cuda is not in it")
  endif()
  run(${WORK_DIR}/app/consumer_cuda)
endif()
message(STATUS "consumer built and ran against ${prefix}")
