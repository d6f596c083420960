#!/bin/sh
echo "arsync keeps the executable bit"
